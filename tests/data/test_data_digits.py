"""`digits` and `digits:a,b,...` through `initlab.data.load`."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from initlab.data import load


def test_digits_returns_all_rows_scaled_to_unit_interval_and_ignores_n_samples():
    X, y = load("digits", n_samples=5)
    reference = load_digits()
    assert X.shape == (1797, 64) and y.dtype == np.int64
    np.testing.assert_array_equal(X, reference.data / 16.0)
    np.testing.assert_array_equal(y, reference.target)
    assert X.min() == 0.0 and X.max() == 1.0


def test_digits_subset_remaps_labels_in_the_given_order():
    X, y = load("digits:7,1,3")
    reference = load_digits()
    keep = np.isin(reference.target, [7, 1, 3])
    np.testing.assert_array_equal(X, reference.data[keep] / 16.0)
    expected = np.select([reference.target[keep] == 7, reference.target[keep] == 1], [0, 1], 2)
    np.testing.assert_array_equal(y, expected)
    assert np.bincount(y).tolist() == [int((reference.target == d).sum()) for d in (7, 1, 3)]


def test_digits_subset_tolerates_spaces():
    assert np.array_equal(load("digits: 0, 1")[1], load("digits:0,1")[1])


@pytest.mark.parametrize("spec", ["digits:0", "digits:0,0", "digits:0,10", "digits:a,b", "digits:", "digits:0,,1"])
def test_bad_digits_class_list_names_the_list_and_the_rule(spec):
    listed = spec.split(":", 1)[1]
    with pytest.raises(ValueError, match=rf"^data: bad digits class list '{listed}' in '{spec}'; expected at least 2"):
        load(spec)


def test_digits_upsampled_to_20x20_give_400_inputs_in_unit_range():
    from initlab.data import load
    X, y = load("digits:0,1", image_size=20)
    X8, _ = load("digits:0,1")
    assert X.shape == (len(X8), 400) and X.min() >= 0.0 and X.max() <= 1.0
    # bilinear resampling keeps the image's overall brightness close to the original's
    assert abs(X.mean() - X8.mean()) < 0.05
