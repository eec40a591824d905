"""Playground settings: the defaults of `initlab train`/`compare`, the limits, one-line refusals naming the field."""

import pytest

from initlab._errors import ArgumentError
from initlab.experiments.config import CompareConfig
from initlab.playground.settings import MAX_LAYERS, MAX_SAMPLES, MAX_SEEDS, MAX_WIDTH, Settings


def test_defaults_are_those_of_initlab_train_on_compares_data_and_network():
    settings, compare = Settings(), CompareConfig()
    assert (settings.dataset, settings.n_samples, settings.noise) == (compare.data, compare.n_samples, compare.noise)
    assert (settings.hidden, settings.activation, settings.bias_init) == (compare.hidden, compare.activation,
                                                                         compare.bias_init)
    assert (settings.optimizer, settings.lr, settings.n_seeds, settings.seed) == (compare.optimizer, compare.lr,
                                                                                 compare.seeds, compare.first_seed)
    assert settings.init == "he_normal"  # `initlab train --init`'s default


def test_largest_allowed_settings_are_accepted():
    settings = Settings.create(hidden=[MAX_WIDTH] * MAX_LAYERS, n_samples=MAX_SAMPLES, n_seeds=MAX_SEEDS)
    assert settings.hidden == (MAX_WIDTH,) * MAX_LAYERS


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
