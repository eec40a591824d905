"""Playground settings: the defaults of `initlab train`/`compare`, the limits, one-line refusals naming the field."""

import pytest

from initlab._errors import ArgumentError
from initlab.experiments.config import CompareConfig
from initlab.playground.settings import MAX_LAYERS, MAX_SAMPLES, MAX_SEEDS, MAX_WIDTH, MAX_WORK, Settings


def test_defaults_are_those_of_initlab_train_on_compares_data_and_network():
    settings, compare = Settings(), CompareConfig()
    assert (settings.dataset, settings.n_samples, settings.noise) == (compare.data, compare.n_samples, compare.noise)
    assert (settings.hidden, settings.activation, settings.bias_init) == (compare.hidden, compare.activation,
                                                                         compare.bias_init)
    assert (settings.optimizer, settings.lr, settings.n_seeds, settings.seed) == (compare.optimizer, compare.lr,
                                                                                 compare.seeds, compare.first_seed)
    assert settings.init == "he_normal"  # `initlab train --init`'s default


def test_each_largest_setting_is_accepted_and_too_much_work_together_is_refused():
    assert Settings.create(hidden=[MAX_WIDTH] * MAX_LAYERS, n_samples=200, n_seeds=1).hidden == (MAX_WIDTH,) * MAX_LAYERS
    widest = Settings.create(n_samples=MAX_SAMPLES, n_seeds=MAX_SEEDS, compare=["zeros", "xavier_normal", "lecun_normal"])
    assert widest.work == 64 * 2000 * (2 * 10 + 10 * 5 + 5 * 1)
    with pytest.raises(ArgumentError) as caught:
        Settings.create(hidden=[MAX_WIDTH] * MAX_LAYERS, n_samples=MAX_SAMPLES, n_seeds=MAX_SEEDS)
    weights = 2 * 256 + 7 * 256 * 256 + 256
    assert caught.value.argument == "work" and str(caught.value).endswith(
        f"got 16 x 2000 x {weights:,} = {16 * 2000 * weights:,}")
    assert Settings.create(hidden=[256, 256], n_samples=MAX_WORK // (2 * 256 + 256 * 256 + 256),
                           n_seeds=1).work <= MAX_WORK


@pytest.mark.parametrize("values, field, words", [
    (dict(hidden=[10] * (MAX_LAYERS + 1)), "hidden", "at most 8 hidden layers"),
    (dict(hidden=[MAX_WIDTH + 1]), "hidden", "widths from 1 to 256, got [257]"),
    (dict(hidden=[0]), "hidden", "widths from 1 to 256, got [0]"),
    (dict(n_samples=MAX_SAMPLES + 1), "n_samples", "at most 2000, got 2001"),
    (dict(n_seeds=MAX_SEEDS + 1), "n_seeds", "at most 16, got 17"),
    (dict(n_seeds=0), "n_seeds", "at least 1, got 0"),
    (dict(lr=0.0), "lr", "more than 0"),
    (dict(lr=1e3), "lr", "at most 10"),
    (dict(noise=-0.1), "noise", "at least 0"),
    (dict(dataset="gaussian", noise=0.1), "noise", "has no noise setting"),
    (dict(dataset="digits"), "dataset", "'digits'"),
    (dict(activation="gelu"), "activation", "unknown activation 'gelu'"),
    (dict(init="normal(std=-1)"), "init", "std: expected a positive number, got -1"),
    (dict(init="normal(std="), "init", "cannot parse"),
    (dict(bias_init="no_such_scheme"), "bias_init", "no_such_scheme"),
    (dict(n_samples=1.5), "n_samples", "integer"),
    (dict(colour="red"), "colour", "not permitted"),
    (dict(compare=["zeros"] * 4), "compare", "at most 3 further schemes (4 in all)"),
    (dict(compare=["zeros", "he_normal"]), "compare", "other than init and each other"),
    (dict(compare=["zeros", "zeros"]), "compare", "other than init and each other"),
    (dict(compare=["normal(std=0)"]), "compare", "std: expected a positive number, got 0"),
    (dict(speed=0), "speed", "at least 1, got 0"),
    (dict(speed=1001), "speed", "at most 1000, got 1001"),
])
def test_refusals_are_one_line_and_name_the_field(values, field, words):
    with pytest.raises(ArgumentError) as caught:
        Settings.create(**values)
    assert caught.value.argument == field
    assert str(caught.value).startswith(f"{field}: ") and words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_specs_are_canonical_and_replace_validates():
    settings = Settings.create(init="glorot_normal(gain=1)")
    assert settings.init == "xavier_normal"
    assert settings.replace(lr=0.5).lr == 0.5
    with pytest.raises(ArgumentError, match="^n_seeds: "):
        settings.replace(n_seeds=100)


@pytest.mark.parametrize("values, message", [
    (dict(init="x" * 10_000), "init: unknown scheme '" + "x" * 77 + "…'; see 'initlab schemes'"),
    (dict(activation="r" * 300), "activation: unknown activation '" + "r" * 77 + "…'; choices: leaky_relu, linear, "
                                 "relu, sigmoid, tanh"),
    (dict(dataset="d" * 300), "dataset: input should be 'circles', 'moons', 'xor', 'spirals', 'blobs' or 'gaussian', "
                              "got '" + "d" * 77 + "…'"),
    # collections are shown in one form, the JSON the API receives, whatever Python type they became
    (dict(hidden=[10] * 9), "hidden: expected at most 8 hidden layers, got [10, 10, 10, 10, 10, 10, 10, 10, 10]"),
    (dict(hidden=[257]), "hidden: expected widths from 1 to 256, got [257]"),
    (dict(compare=["zeros", "zeros"]), 'compare: expected schemes other than init and each other, got ["zeros", '
                                       "\"zeros\"] with init 'he_normal'"),
])
def test_refusals_echo_values_cut_to_80_characters_and_collections_as_json(values, message):
    with pytest.raises(ArgumentError) as caught:
        Settings.create(**values)
    assert str(caught.value) == message
