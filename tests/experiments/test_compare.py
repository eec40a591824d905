"""`compare` end to end: the lesson of the courses' initialization exercises, as numbers."""

import json
import math

import numpy as np
import pytest

from initlab.experiments import CompareConfig, run_compare
from initlab.experiments.compare import load_dataset

# Small and fast, but the same experiment as the deeplearning.ai exercise (course 2 week 1): circles, relu,
# four schemes.
SMALL = dict(data="circles", n_samples=200, hidden=(10, 5), activation="relu", seeds=3, lr=0.05, iterations=2000)


@pytest.fixture(scope="module")
def lesson():
    return run_compare(CompareConfig(**SMALL))


def by_init(result, init):
    return next(row for row in result.summary() if row["init"] == init)


def test_zeros_stays_at_ln2_with_half_accuracy(lesson):
    runs = [run.result for run in lesson.runs if run.init == "zeros"]
    assert len(runs) == 3
    for run in runs:
        assert all(cost == math.log(2) for _, cost in run.cost_history)
        assert run.train_accuracy == 0.5
    assert by_init(lesson, "zeros")["final_cost_std"] == 0.0


def test_he_and_xavier_reach_a_clearly_lower_cost_than_large_random(lesson):
    large = by_init(lesson, "normal(std=10)")["final_cost_mean"]
    for init in ("he_normal", "xavier_normal"):
        row = by_init(lesson, init)
        assert row["final_cost_mean"] < 0.5 * large
        assert row["final_cost_mean"] < 0.25 < math.log(2)
        assert row["train_accuracy_mean"] >= 0.95


def test_large_random_starts_with_a_huge_cost(lesson):
    first = [run.result.cost_history[0][1] for run in lesson.runs if run.init == "normal(std=10)"]
    assert min(first) > 10 * math.log(2)


def test_json_document_has_the_documented_shape(lesson):
    document = json.loads(json.dumps(lesson.to_json(), allow_nan=False))
    assert set(document) == {"config", "title", "runs", "summary", "train_points"}  # 2-D classification: boundaries
    assert len(document["runs"]) == 4 * 3
    run = document["runs"][0]
    assert {"init", "seed", "final_cost", "train_accuracy", "test_accuracy", "diverged",
            "cost_history"} <= set(run)
    assert run["cost_history"][0][0] == 0 and run["cost_history"][-1][0] == SMALL["iterations"]
    assert {"init", "n_seeds", "final_cost_mean", "final_cost_std", "final_cost_median", "final_cost_min",
            "final_cost_max", "train_accuracy_mean", "test_accuracy_mean", "test_accuracy_median"} <= set(
        document["summary"][0])
    assert document["config"]["inits"] == ["zeros", "normal(std=10)", "he_normal", "xavier_normal"]
    assert "initlab_version" in document["config"]


def test_same_config_gives_bit_identical_results():
    config = CompareConfig(**{**SMALL, "iterations": 200, "inits": ("he_normal",), "seeds": 2})
    first, second = ([{k: v for k, v in run.items() if k != "wall_time"} for run in run_compare(config).to_json()["runs"]]
                     for _ in range(2))
    assert first == second


def test_diverged_run_is_null_in_json_and_does_not_stop_the_others():
    config = CompareConfig(data="circles", n_samples=40, hidden=(4,), output="linear", test_fraction=0.0,
                           inits=("normal(std=1e200)", "he_normal"), seeds=1, iterations=20, lr=1.0)
    document = json.loads(json.dumps(run_compare(config).to_json(), allow_nan=False))
    bad, good = document["runs"]
    assert bad["diverged"] is True and bad["final_cost"] is None and bad["cost_history"][-1][1] is None
    assert good["diverged"] is False and good["final_cost"] is not None


def test_separate_test_data_is_a_different_sample():
    data = load_dataset(CompareConfig(data="moons", test_data="moons", n_samples=100))
    assert data.X_train.shape == data.X_test.shape == (100, 2)
    assert not np.array_equal(data.X_train, data.X_test)


@pytest.mark.parametrize("changes,message", [
    ({"inits": ("he_norml",)}, r"init: unknown scheme 'he_norml' \(did you mean 'he_normal'\?\)"),
    ({"inits": ("he_normal", "kaiming_normal")}, r"init: each scheme may appear once"),
    ({"hidden": (10, -5)}, r"hidden: expected positive integers, got \[10, -5\]"),
    ({"seeds": 0}, r"seeds: expected a positive integer, got 0"),
    ({"lr": 0}, r"lr: expected a positive number, got 0"),
    ({"test_fraction": 1.0}, r"test_fraction: expected a number in \[0, 1\), got 1.0"),
    ({"data": "circels"}, r"data: unknown dataset 'circels' \(did you mean 'circles'\?\)"),
    ({"activation": "tahn"}, r"activation: unknown activation 'tahn' \(did you mean 'tanh'\?\)"),
])
def test_bad_config_is_rejected_before_any_work(changes, message):
    with pytest.raises(ValueError, match=message):
        CompareConfig(**{**SMALL, **changes})


def test_labels_that_do_not_fit_the_output_layer_are_rejected():
    with pytest.raises(ValueError, match=r"output: sigmoid separates 2 classes, but 'blobs:3' has 3"):
        run_compare(CompareConfig(data="blobs:3", output="sigmoid", n_samples=60, iterations=1, seeds=1))


def test_separate_test_file_keeps_the_training_class_meaning(tmp_path):
    rng = np.random.default_rng(0)
    train_file, test_file = tmp_path / "train.npz", tmp_path / "test.npz"
    np.savez(train_file, X=rng.standard_normal((30, 2)), y=np.repeat([0, 1, 2], 10))
    np.savez(test_file, X=rng.standard_normal((10, 2)), y=np.repeat([1, 2], 5))  # class 0 absent
    data = load_dataset(CompareConfig(data=f"file:{train_file}", test_data=f"file:{test_file}"))
    assert data.y_test.tolist() == [1] * 5 + [2] * 5


def test_test_file_with_an_unknown_class_is_rejected(tmp_path):
    rng = np.random.default_rng(0)
    train_file, test_file = tmp_path / "train.npz", tmp_path / "test.npz"
    np.savez(train_file, X=rng.standard_normal((20, 2)), y=np.repeat([0, 1], 10))
    np.savez(test_file, X=rng.standard_normal((4, 2)), y=np.array([0, 1, 7, 7]))
    with pytest.raises(ValueError, match=r"has classes \['7'\] that the training data does not have"):
        load_dataset(CompareConfig(data=f"file:{train_file}", test_data=f"file:{test_file}"))


def test_generated_test_data_comes_from_the_same_distribution():
    # blobs draws its centres from the seed: the test points must share the training centres.
    data = load_dataset(CompareConfig(data="blobs:3", test_data="blobs:3", n_samples=300))
    for label in range(3):
        train_centre = data.X_train[data.y_train == label].mean(axis=0)
        test_centre = data.X_test[data.y_test == label].mean(axis=0)
        # cluster std 1, 100 points per class: the two means differ by ~0.14 per axis; 1 is 7 sigma
        assert np.all(np.abs(train_centre - test_centre) < 1.0)


@pytest.mark.parametrize("changes,message", [
    ({"inits": ("he_normal", "normal(std=-1)")}, r"init: 'normal\(std=-1\)': std: expected a positive number"),
    ({"bias_init": "orthogonal"}, r"bias_init: shape: 'orthogonal' needs at least 2 dimensions"),
    ({"noise": -1.0}, r"noise: expected a non-negative number, got -1"),
    ({"test_data": "mons"}, r"test_data: unknown dataset 'mons' \(did you mean 'moons'\?\)"),
    ({"data_seed": -1}, r"data_seed: expected a non-negative integer, got -1"),
])
def test_every_setting_is_validated_when_the_config_is_built(changes, message):
    with pytest.raises(ValueError, match=message):
        CompareConfig(**changes)


def test_automatic_record_interval_follows_the_iterations():
    config = CompareConfig(iterations=3000)
    assert config.record_interval == 10
    assert config.replace(iterations=300000).record_interval == 1000


def test_runs_record_which_training_path_they_took():
    config = CompareConfig(data="gaussian:40", n_samples=12, test_fraction=0.0, hidden=(3,), inits=("he_normal",),
                           seeds=1, iterations=5)
    assert run_compare(config).to_json()["runs"][0]["sample_space"] is True
    small = config.replace(data="circles")
    assert run_compare(small).to_json()["runs"][0]["sample_space"] is False


def test_every_run_carries_its_own_decision_surface_matching_its_network(lesson):
    from initlab.experiments.boundary import grid
    from initlab.report.boundaries import surface_array
    document = lesson.to_json()
    assert len(document["train_points"]["X"]) == len(lesson.data.X_train)
    np.testing.assert_array_equal(document["train_points"]["y"], lesson.data.y_train)
    surfaces = []
    for record, run in zip(document["runs"], lesson.runs):
        surface = record["boundary"]
        n = surface["resolution"]
        classes = surface_array(surface)
        # the decoded surface is what this run's own trained network predicts on the grid
        np.testing.assert_array_equal(classes.ravel(), run.net.predict(grid(surface["extent"], n)).ravel())
        surfaces.append(classes)
    seeds_of_normal = [s for s, r in zip(surfaces, lesson.runs) if r.init == "normal(std=10)"]
    assert any((a != b).any() for a, b in zip(seeds_of_normal, seeds_of_normal[1:]))  # seeds differ
    assert len(json.dumps(document["runs"][0]["boundary"])) < 20_000  # run-length encoded, not 14,400 numbers


def test_minibatch_runs_record_at_most_every_ten_full_data_passes_worth_of_steps():
    # 300 training rows, batch 16: one recorded cost is a full pass, 300 / 16 = 18.75 steps of work, so the
    # automatic interval becomes ceil(10 * 18.75) = 188 (under 10% of the training time), not 600 // 300 = 2.
    config = CompareConfig(data="circles", n_samples=400, hidden=(8,), batch_size=16, iterations=600, seeds=1,
                           inits=("he_normal",))
    assert config.recording_for(300).record_interval == 188
    result = run_compare(config)
    assert result.config.record_every == 188
    assert [it for it, _ in result.runs[0].result.cost_history] == [0, 188, 376, 564, 600]
    for unchanged in (config.replace(batch_size=None), config.replace(record_every=5), config.replace(batch_size=300)):
        assert unchanged.recording_for(300) is unchanged
