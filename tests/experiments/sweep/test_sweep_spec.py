"""Sweep files: grid expansion, defaults, validation messages that name the key, stable hashes."""

import hashlib
import json
from pathlib import Path

import pytest

from initlab.experiments.config import SOURCE_SCHEMES
from initlab.experiments.sweep import load_sweep
from initlab.experiments.sweep.spec import settings

FIVE_SCHEMES_TWO_DEPTHS = """
data = "circles"
seeds = 20
[model]
hidden = [10, 5]
activation = "relu"
[train]
lr = 0.01
iterations = 2000
[grid]
"model.init" = ["zeros", "normal(std=0.01)", "normal(std=10)", "he_normal", "xavier_normal"]
"model.hidden" = [[10, 5], [10, 10, 10, 10, 10]]
"""


def test_five_schemes_by_two_depths_expand_to_ten_points_of_twenty_seeds(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(FIVE_SCHEMES_TWO_DEPTHS)
    sweep = load_sweep(path)
    assert (len(sweep.points), sweep.seeds, sweep.n_runs) == (10, 20, 200)
    # Axes cross in the order written, the last one fastest.
    assert [(p.init, p.config.hidden) for p in sweep.points[:3]] == [
        ("zeros", (10, 5)), ("zeros", (10, 10, 10, 10, 10)), ("normal(std=0.01)", (10, 5))]
    first = sweep.points[0].config
    assert (first.data, first.activation, first.lr, first.iterations, first.inits) == (
        "circles", "relu", 0.01, 2000, ("zeros",))
    runs = sweep.runs()
    assert [r["seed"] for r in runs[:21]] == [*range(20), 0]
    assert len({r["key"] for r in runs}) == 200


def test_without_model_init_the_four_source_schemes_are_an_axis(tiny):
    sweep = load_sweep({**tiny(), "grid": {"train.lr": [0.1, 0.5]}})
    assert list(sweep.grid) == ["model.init", "train.lr"]
    assert [p.init for p in sweep.points] == [s for s in SOURCE_SCHEMES for _ in range(2)]


def test_nested_grid_tables_hidden_strings_and_fixed_init(tiny):
    spec = {**tiny(), "model": {"hidden": "3x2", "init": "he_normal"},
            "grid": {"model": {"hidden": ["4x3", [5, 6], "7"]}, "data": ["moons", "xor"]}}
    sweep = load_sweep(spec)
    assert [p.config.hidden for p in sweep.points[::2]] == [(4, 4, 4), (5, 6), (7,)]
    assert {p.config.data for p in sweep.points} == {"moons", "xor"}
    assert {p.init for p in sweep.points} == {"he_normal"}


@pytest.mark.parametrize("change, message", [
    ({"model": {"activaton": "relu"}}, "model.activaton: unknown key (did you mean 'model.activation'?)"),
    ({"seed": 3}, "seed: unknown key (did you mean 'seeds'?)"),
    ({"grid": {"model.init": []}}, "model.init: the grid axis is empty ([])"),
    ({"grid": {"model.init": ["he_norml"]}}, "model.init: unknown scheme 'he_norml' (did you mean 'he_normal'?)"),
    ({"model": {"init": "he_norml"}, "grid": {}}, "model.init: unknown scheme 'he_norml'"),
    ({"grid": {"model.init": ["zeros"], "train.lr": [0.1, -1]}}, "train.lr: expected a positive number, got -1"),
    ({"data": "circle"}, "data: unknown dataset 'circle' (did you mean 'circles'?)"),
    ({"model": {"hidden": [10, -5]}}, "model.hidden: expected positive integers, got [10, -5]"),
    ({"seeds": 0}, "seeds: expected a positive integer, got 0"),
    ({"grid": {"seeds": [1, 2]}}, "seeds: cannot be a grid axis"),
    ({"grid": {"train.lr": 0.1}}, "train.lr: a grid axis needs a list of values, got 0.1"),
    ({"model": {"init": ["zeros", "he_normal"]}, "grid": {}}, "model.init: expected one scheme spec"),
    ({"grid": {"model.init": ["glorot_normal", "xavier_normal"]}}, "are the same settings"),
    ({"train": {"optimizer": 3}}, "train.optimizer: expected a string, got 3"),
    ({"grid": {"train.lr": {"from": 0, "to": 1, "steps": 3, "log": True}}}, "train.lr: a log range needs from and to > 0"),
    ({"grid": {"train.lr": {"from": 0.1, "to": 1}}}, "train.lr: a range needs from, to and steps, missing steps"),
    ({"grid": {"train.lr": {"from": 0.1, "to": 1, "steps": 1}}}, "range steps: expected an integer from 2 to"),
    ({"grid": {"train.lr": {"from": 0.1, "to": "1", "steps": 2}}}, "range to: expected a finite number, got '1'"),
    ({"grid": {"train.lr": {"from": 0.1, "to": 1, "steps": 2, "lo": 1}}}, "a range has the keys from, to, steps"),
    ({"train": {"lr": {"from": 0.1, "to": 1, "steps": 2}}}, "train.lr: a range of values is a grid axis"),
    ({"grid": {"train.iterations": {"from": 10, "to": 20, "steps": 3, "log": True}}},
     "train.iterations: expected a positive integer"),
])
def test_bad_sweeps_raise_one_message_naming_the_key_and_value(tiny, change, message):
    spec = {**tiny(), **change}
    if "model" in change:
        spec["model"] = {**tiny()["model"], **change["model"]}
    with pytest.raises(ValueError) as raised:
        load_sweep(spec)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_range_axes_expand_to_evenly_spaced_values_linear_or_log(tmp_path):
    path = tmp_path / "ranges.toml"
    path.write_text('seeds = 1\n[model]\ninit = "he_normal"\n[grid]\n'
                    '"train.lr" = {from = 1e-3, to = 1, steps = 4, log = true}\n'
                    '"model.init" = ["he_normal"]\n"train.iterations" = {from = 100, to = 700, steps = 4}\n')
    sweep = load_sweep(path)
    assert list(sweep.grid["train.lr"]) == [0.001, 0.01, 0.1, 1.0]  # 1e-3 * 1000^(i/3), rounded to 12 digits
    assert list(sweep.grid["train.iterations"]) == [100, 300, 500, 700]
    assert len(sweep.points) == 16 and sweep.points[5].config.lr == 0.01 and sweep.points[5].config.iterations == 300
    linear = load_sweep({"grid": {"train.lr": {"from": 0.1, "to": 0.2, "steps": 3}, "model.init": ["zeros"]}})
    assert list(linear.grid["train.lr"]) == [0.1, 0.15, 0.2]


def test_errors_from_a_file_name_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[model]\nactivaton = "relu"\n')
    with pytest.raises(ValueError, match=r"^.*bad\.toml: model\.activaton: unknown key"):
        load_sweep(path)
    path.write_text("data = \n")
    with pytest.raises(ValueError, match="bad.toml: not a valid TOML file"):
        load_sweep(path)
    with pytest.raises(ValueError, match="missing.toml: no such sweep file"):
        load_sweep(tmp_path / "missing.toml")


def test_run_key_is_the_sha256_of_the_canonical_config_and_seed(tiny):
    point = load_sweep(tiny()).points[1]
    document = {k: v for k, v in point.config.to_json().items()
                if k not in ("seeds", "first_seed", "initlab_version", "labels", "note")}
    canonical = json.dumps({"config": document, "seed": 1}, sort_keys=True, separators=(",", ":"))
    assert point.key(1) == hashlib.sha256(canonical.encode()).hexdigest()
    config_only = json.dumps(document, sort_keys=True, separators=(",", ":"))
    assert point.config_hash == hashlib.sha256(config_only.encode()).hexdigest()


def test_hashes_ignore_spelling_order_and_seed_count_but_not_settings(tiny):
    a = load_sweep({**tiny(seeds=2), "grid": {"model.init": ["glorot_normal"]}})
    b = load_sweep({"grid": {"model.init": ["xavier_normal(gain=1)"]}, "seeds": 5,
                    "train": {"iterations": 20, "lr": 0.1}, "model": {"activation": "tanh", "hidden": "4"},
                    "n_samples": 40, "data": "circles"})
    assert a.points[0].config_hash == b.points[0].config_hash
    assert [r["key"] for r in a.runs()] == [r["key"] for r in b.runs()][:2]
    c = load_sweep({**tiny(), "grid": {"model.init": ["xavier_normal"], "train.lr": [0.2]}})
    assert c.points[0].config_hash != a.points[0].config_hash
    assert settings(c.points[0].config)["lr"] == 0.2


@pytest.mark.parametrize("name, points, seeds", [("source_schemes", 10, 20), ("scale_depth", 40, 3),
                                                ("article", 4, 3), ("ng", 3, 3)])
def test_examples_are_valid_sweeps(name, points, seeds):
    sweep = load_sweep(Path(__file__).parents[3] / "examples" / f"{name}.toml")
    assert (len(sweep.points), sweep.seeds) == (points, seeds)


@pytest.mark.parametrize("name, preset_name", [("article", "article"), ("ng", "ng")])
def test_example_sweeps_match_their_presets(name, preset_name):
    from initlab.experiments import resolve
    sweep = load_sweep(Path(__file__).parents[3] / "examples" / f"{name}.toml")
    preset_config = resolve(preset_name)
    assert [p.config.inits[0] for p in sweep.points] == list(preset_config.inits)
    fields = ("data", "n_samples", "image_size", "test_fraction", "hidden", "activation", "lr", "iterations", "dtype")
    for point in sweep.points:
        assert {f: getattr(point.config, f) for f in fields} == {f: getattr(preset_config, f) for f in fields}
