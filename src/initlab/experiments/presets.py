"""Named, documented experiments for `initlab compare --preset NAME`.

Each preset is a set of `CompareConfig` fields; settings given explicitly override them.
"""

from __future__ import annotations

from dataclasses import dataclass

from initlab._errors import unknown_choice
from initlab.experiments.config import CompareConfig


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    settings: dict


NG_STAND_IN = ("scikit-learn's 8x8 digits upsampled to 20x20 (400 inputs) stand in for the course's 5,000 "
               "20x20 MNIST digits; softmax output and gradient descent instead of one-vs-all sigmoids and fmincg")

STAND_IN = ("SYNTHETIC STAND-IN for the article's 100 cats-vs-dogs pictures: 100 standard-normal "
            "'images' of 67,500 values with random labels; pass --data images:PATH for the real setting")

PRESETS = {p.name: p for p in (
    Preset("demo",
           "The 2-D experiment of the deeplearning.ai Deep Learning Specialization (course 2 week 1, "
           "initialization): circles (300 train + 100 test points), [2, 10, 5, 1] relu, zeros vs randn*10 vs "
           "He, plus Xavier, 5 seeds, lr 0.01, 15,000 full-batch iterations.",
           dict(data="circles", n_samples=400, hidden=(10, 5), activation="relu",
                inits=("zeros", "normal(std=10)", "he_normal", "xavier_normal"), seeds=5, lr=0.01,
                iterations=15000)),
    Preset("article",
           "Imad Dabbura's article \"Coding Neural Network - Parameters' Initialization\" (2018): layers "
           "[67500, 5, 5, 1], tanh, sigmoid out, lr 0.01, 1,000 iterations; its "
           "'Xavier' is randn*sqrt(1/fan_in), i.e. lecun_normal. Without --data images:PATH it runs on a "
           "SYNTHETIC STAND-IN of the same shape (100 standard-normal 'images' of 67,500 values, random labels).",
           dict(data="gaussian:67500", n_samples=100, test_fraction=0.0, hidden=(5, 5), activation="tanh",
                inits=("zeros", "normal(std=10)", "he_normal", "lecun_normal"), seeds=3, lr=0.01,
                iterations=1000, dtype="float32", note=STAND_IN,
                labels=(("lecun_normal", "lecun_normal (the article's 'Xavier')"),))),
    Preset("ng",
           "Andrew Ng's Machine Learning course, exercise 4: a 400-25-10 sigmoid network, zeros vs. his "
           "symmetry-breaking U(-0.12, 0.12) (epsilon_uniform(epsilon=0.12)) vs. randn*10, on scikit-learn's "
           "digits upsampled to 20x20 (a stand-in for the course's MNIST subset), lr 1, 1,000 iterations, 3 seeds.",
           dict(data="digits", image_size=20, hidden=(25,), activation="sigmoid", output="softmax",
                inits=("zeros", "epsilon_uniform(epsilon=0.12)", "normal(std=10)"), seeds=3, lr=1.0,
                iterations=1000, note=NG_STAND_IN)),
)}


def preset(name: str) -> Preset:
    if name not in PRESETS:
        raise unknown_choice("preset", "preset", name, PRESETS)
    return PRESETS[name]


def resolve(preset_name: str | None, **overrides) -> CompareConfig:
    """The config of `preset_name` (or the defaults) with `overrides` (None values are ignored).

    The preset's note describes its own data, so it is dropped when the data is overridden.

    >>> resolve("demo", iterations=20).iterations, resolve("demo").inits[0]
    (20, 'zeros')
    """
    settings = dict(preset(preset_name).settings) if preset_name else {}
    given = {key: value for key, value in overrides.items() if value is not None}
    if "data" in given:
        settings.pop("note", None)
    return CompareConfig(**{**settings, **given})
