"""Bad input to the engine is a one-line ValueError naming the argument, the rule and the value."""

import numpy as np
import pytest

from initlab.nn import MLP, train


@pytest.mark.parametrize("kwargs,message", [
    ({"layer_sizes": [2, -5, 1]}, r"layer_sizes: expected at least 2 positive integers .*\[2, -5, 1\]"),
    ({"layer_sizes": [2]}, r"layer_sizes: .*\[2\]"),
    ({"activation": "rleu"}, r"activation: unknown activation 'rleu' \(did you mean 'relu'\?\)"),
    ({"activation": ["relu"]}, r"activation: expected one name or 2"),
    ({"output": "softmx"}, r"output: unknown output 'softmx'"),
    ({"init": "he_norml"}, r"init: unknown scheme 'he_norml' \(did you mean 'he_normal'\?\)"),
    ({"bias_init": "normal(std=-1)"}, r"bias_init: 'normal\(std=-1\)': std: expected a positive number, got -1"),
    ({"dtype": "float16"}, r"dtype: expected one of float32, float64, got 'float16'"),
])
def test_bad_model_arguments_name_argument_and_value(kwargs, message):
    arguments = {"layer_sizes": [2, 5, 5, 1], **kwargs}
    with pytest.raises(ValueError, match=message):
        MLP(**arguments)


def test_labels_that_do_not_match_the_output_layer_are_rejected():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"y: sigmoid output with 2 classes needs integer labels in 0..1, got \[2\]"):
        train(MLP([2, 3, 1]), X, np.array([0, 1, 2, 1]), iterations=1)
    with pytest.raises(ValueError, match=r"output: sigmoid output needs 1 unit, got 3"):
        train(MLP([2, 3, 3]), X, np.array([0, 1, 2, 1]), iterations=1)
    with pytest.raises(ValueError, match=r"y: softmax output with 3 classes needs integer labels in 0..2, got \[5\]"):
        train(MLP([2, 3, 3], output="softmax"), X, np.array([0, 1, 5, 1]), iterations=1)


@pytest.mark.parametrize("kwargs,message", [
    ({"lr": -0.1}, r"lr: expected a positive number, got -0.1"),
    ({"iterations": 0}, r"iterations: expected a positive integer, got 0"),
    ({"optimizer": "sgdd"}, r"optimizer: unknown optimizer 'sgdd'"),
    ({"batch_size": 0}, r"batch_size: expected a positive integer, got 0"),
])
def test_bad_training_arguments_name_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        train(MLP([2, 3, 1]), np.zeros((4, 2)), np.array([0, 1, 0, 1]), **kwargs)


def test_input_width_mismatch_is_rejected():
    with pytest.raises(ValueError, match=r"X: expected a 2-D array \(n_samples, 2\), got shape \(4, 3\)"):
        MLP([2, 3, 1]).predict(np.zeros((4, 3)))


def test_sigmoid_loss_keeps_tiny_losses_instead_of_rounding_to_zero():
    from initlab.nn.heads import head
    z = np.array([[40.0], [-40.0]])
    loss = head("sigmoid").loss(z, np.array([1, 0]))
    assert loss == pytest.approx(np.exp(-40.0), rel=1e-12)  # log(1 + e^-40) = e^-40 to 1e-17
