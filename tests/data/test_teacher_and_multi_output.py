"""Teacher datasets (`initlab.data.teacher`) equal teacher(X) + noise by hand, and 2-D targets in `file:` data
train a linear head with one output per column under the mean squared error."""

import math

import numpy as np
import pytest

from initlab.data import load
from initlab.experiments import CompareConfig, load_dataset, run_compare


def test_linear_teacher_is_x_times_seed_derived_weights_plus_noise_by_hand():
    X, y = load("teacher:linear:n_features=5,n_outputs=3", n_samples=40, seed=7, noise=0.2)
    rng = np.random.default_rng(7)  # the documented order: weights, inputs, noise
    W = rng.standard_normal((5, 3)) * math.sqrt(1 / 5)
    X_hand = rng.standard_normal((40, 5))
    y_hand = X_hand @ W + 0.2 * rng.standard_normal((40, 3))
    assert np.array_equal(X, X_hand) and np.array_equal(y, y_hand) and y.dtype == np.float64


def test_mlp_teacher_is_relu_he_network_plus_noise_and_one_output_is_1d():
    X, y = load("teacher:mlp:n_features=4,hidden=6", n_samples=30, seed=1)
    rng = np.random.default_rng(1)
    W1 = rng.standard_normal((4, 6)) * math.sqrt(2 / 4)
    W2 = rng.standard_normal((6, 1)) * math.sqrt(1 / 6)
    X_hand = rng.standard_normal((30, 4))
    y_hand = np.maximum(X_hand @ W1, 0) @ W2 + 0.1 * rng.standard_normal((30, 1))  # default noise 0.1
    assert np.array_equal(X, X_hand) and y.shape == (30,) and np.array_equal(y, y_hand[:, 0])


def test_the_teacher_does_not_depend_on_n_samples():
    # weights are drawn first: 20 and 2000 samples of one seed come from the same function (noise 0)
    X1, y1 = load("teacher:mlp:n_features=3,n_outputs=2", n_samples=20, seed=4, noise=0.0)
    X2, y2 = load("teacher:mlp:n_features=3,n_outputs=2", n_samples=2000, seed=4, noise=0.0)
    assert np.array_equal(X1, X2[:20]) and np.array_equal(y1, y2[:20])


@pytest.mark.parametrize("spec, message", [
    ("teacher:cnn", r"^data: 'teacher:cnn': expected teacher:linear or teacher:mlp"),
    ("teacher:linear:hidden=4", r"^data: 'teacher:linear:hidden=4': expected options n_features=N, n_outputs=N, "),
    ("teacher:mlp:n_outputs=x", r"^data: 'teacher:mlp:n_outputs=x': n_outputs must be an integer in 1..100,000"),
    ("teacher:mlp:n_features=0", r"n_features must be an integer in 1..100,000, got '0'$"),
])
def test_bad_teacher_specs_are_one_error_naming_data(spec, message):
    with pytest.raises(ValueError, match=message):
        load(spec)


def test_a_2d_target_file_trains_a_linear_head_with_one_unit_per_column_under_mse(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    targets = np.column_stack([X[:, 0], X[:, 1] - X[:, 2]])
    np.savez(tmp_path / "two.npz", X=X, y=targets)
    config = CompareConfig(data=f"file:{tmp_path / 'two.npz'}", hidden=(8,), inits=("he_normal",), seeds=1,
                           iterations=50, lr=0.05, test_fraction=0.25)
    data = load_dataset(config)
    assert data.y_train.shape == (45, 2) and data.y_test.shape == (15, 2)
    result = run_compare(config, data)
    net = result.models["he_normal"]
    assert net.layer_sizes == [3, 8, 2] and net.head.name == "linear"
    by_hand = np.mean((net.logits(data.X_train) - data.y_train) ** 2)  # mean over every sample and output
    assert result.runs[0].result.final_cost == pytest.approx(by_hand, rel=1e-12)
    assert result.runs[0].result.train_accuracy is None


def test_compare_on_a_teacher_set_records_the_reached_iteration_per_run():
    config = CompareConfig(data="teacher:linear:n_features=4,n_outputs=2", n_samples=80, hidden=(16,),
                           activation="linear", inits=("he_normal", "xavier_normal"), seeds=2, iterations=400,
                           lr=0.05, record_every=1, target_cost=0.05)
    document = run_compare(config).to_json()
    reached = [run["target_reached_at"] for run in document["runs"]]
    assert all(r is not None for r in reached)
    for run in document["runs"]:  # the first recorded cost at or below the target, and nothing after it
        history = run["cost_history"]
        assert history[-1][0] == run["target_reached_at"] and history[-1][1] <= 0.05
        assert all(c > 0.05 for _, c in history[:-1])
    assert [row["n_reached"] for row in document["summary"]] == [2, 2]
    assert document["config"]["target_cost"] == 0.05
    plain = run_compare(config.replace(target_cost=None, iterations=5)).to_json()
    assert all(run["target_reached_at"] is None for run in plain["runs"])
    assert all("n_reached" not in row for row in plain["summary"])


def test_a_teacher_too_big_for_memory_is_refused_before_it_is_drawn():
    with pytest.raises(ValueError, match=r"^n_samples: this run needs about .* a teacher of 10,000,100,000 weights"):
        load("teacher:mlp:n_features=100000,hidden=100000", n_samples=10, max_memory="1GB")


def test_csv_target_columns_y1_y2_are_the_same_data_as_a_2d_npz(tmp_path):
    rng = np.random.default_rng(1)
    X = np.round(rng.standard_normal((40, 3)), 6)
    targets = np.round(np.column_stack([X[:, 0], X[:, 1] - X[:, 2]]), 6)
    np.savez(tmp_path / "two.npz", X=X, y=targets)
    rows = ["a,b,y1,c,y2"] + [f"{x[0]},{x[1]},{t[0]},{x[2]},{t[1]}" for x, t in zip(X, targets)]
    (tmp_path / "two.csv").write_text("\n".join(rows) + "\n")
    from_csv = load(f"file:{tmp_path / 'two.csv'}", seed=0)
    from_npz = load(f"file:{tmp_path / 'two.npz'}", seed=0)
    np.testing.assert_array_equal(from_csv[0], from_npz[0])
    np.testing.assert_array_equal(from_csv[1], from_npz[1])
    assert from_csv[1].shape == (40, 2)


@pytest.mark.parametrize("header, message", [("x,y,y1,y2", "has a 'y' column and target columns y1, y2"),
                                              ("x,y1,y3", "target columns must be y1, y2, ... without gaps"),
                                              ("y1,y2", "has no feature column")])
def test_bad_csv_target_columns_are_one_error_naming_data(tmp_path, header, message):
    path = tmp_path / "bad.csv"
    path.write_text(header + "\n" + ",".join(["1"] * len(header.split(","))) + "\n")
    with pytest.raises(ValueError, match="data") as raised:
        load(f"file:{path}", seed=0)
    assert message in str(raised.value)
