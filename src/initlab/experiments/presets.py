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


STAND_IN = ("SYNTHETIC STAND-IN for the article's 100 cats-vs-dogs pictures: 100 standard-normal "
            "'images' of 67,500 values with random labels; pass --data images:PATH for the real setting")

PRESETS = {p.name: p for p in (
    Preset("demo",
           "The notes' 2-D experiment: circles (300 train + 100 test points), [2, 10, 5, 1] relu, zeros vs "
           "randn*10 vs He vs Xavier, 5 seeds, lr 0.01, 15,000 full-batch iterations.",
           dict(data="circles", n_samples=400, hidden=(10, 5), activation="relu",
                inits=("zeros", "normal(std=10)", "he_normal", "xavier_normal"), seeds=5, lr=0.01,
                iterations=15000)),
    Preset("article",
           "Seed-001 article: layers [67500, 5, 5, 1], tanh, sigmoid out, lr 0.01, 1,000 iterations; its "
           "'Xavier' is randn*sqrt(1/fan_in), i.e. lecun_normal. Without --data images:PATH it runs on a "
           "SYNTHETIC STAND-IN of the same shape (100 standard-normal 'images' of 67,500 values, random labels).",
           dict(data="gaussian:67500", n_samples=100, test_fraction=0.0, hidden=(5, 5), activation="tanh",
                inits=("zeros", "normal(std=10)", "he_normal", "lecun_normal"), seeds=3, lr=0.01,
                iterations=1000, dtype="float32", note=STAND_IN,
                labels=(("lecun_normal", "lecun_normal (the article's 'Xavier')"),))),
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
