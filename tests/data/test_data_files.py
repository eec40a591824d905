"""`file:PATH` for .npz and .csv files written in tmp_path: round trips, label handling, errors."""

import csv
import re

import numpy as np
import pytest

from initlab.data import load


def _csv(path, header, rows):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_npz_round_trip_keeps_values_and_ignores_n_samples(tmp_path):
    X = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2, 0])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    X2, y2 = load(f"file:{tmp_path / 'd.npz'}", n_samples=2)
    assert X2.dtype == np.float64 and y2.dtype == np.int64
    np.testing.assert_array_equal(X2, X.astype(np.float64))
    np.testing.assert_array_equal(y2, y)


def test_npz_labels_are_remapped_to_sorted_0_to_k_minus_1(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((4, 1)), y=np.array([-1, 5, 5, -1]))
    assert load(f"file:{tmp_path / 'd.npz'}")[1].tolist() == [0, 1, 1, 0]


def test_npz_integer_valued_float_labels_are_classes(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((3, 1)), y=np.array([[1.0], [0.0], [1.0]]))
    y = load(f"file:{tmp_path / 'd.npz'}")[1]
    assert y.dtype == np.int64 and y.tolist() == [1, 0, 1]


def test_npz_non_integer_float_labels_stay_float_targets(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((3, 1)), y=np.array([0.5, 1.0, -2.25]))
    y = load(f"file:{tmp_path / 'd.npz'}")[1]
    assert y.dtype == np.float64 and y.tolist() == [0.5, 1.0, -2.25]


def test_csv_round_trip_uses_label_column_wherever_it_is(tmp_path):
    path = _csv(tmp_path / "d.csv", ["a", "label", "b"], [[1.5, 1, 2], [3, 0, 4.25], [5, 1, 6]])
    X, y = load(f"file:{path}")
    np.testing.assert_array_equal(X, [[1.5, 2.0], [3.0, 4.25], [5.0, 6.0]])
    assert y.dtype == np.int64 and y.tolist() == [1, 0, 1]


def test_csv_y_column_is_the_label(tmp_path):
    path = _csv(tmp_path / "d.csv", ["y", "x1", "x2"], [[0, 1, 2], [1, 3, 4]])
    X, y = load(f"file:{path}")
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, 4.0]])
    assert y.tolist() == [0, 1]


def test_csv_without_label_name_uses_last_column_and_float_targets_stay_float(tmp_path):
    path = _csv(tmp_path / "d.csv", ["x1", "x2", "price"], [[1, 2, 0.5], [3, 4, 1.75]])
    X, y = load(f"file:{path}")
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, 4.0]])
    assert y.dtype == np.float64 and y.tolist() == [0.5, 1.75]


def test_csv_string_labels_become_sorted_classes(tmp_path):
    path = _csv(tmp_path / "d.csv", ["x", "label"], [[1, "dog"], [2, "cat"], [3, "dog"]])
    assert load(f"file:{path}")[1].tolist() == [1, 0, 1]


def test_npz_nan_in_x_is_reported(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.array([[1.0], [np.nan]]), y=np.array([0, 1]))
    with pytest.raises(ValueError, match=rf"^data: '{re.escape(str(path))}' contains NaN in X$"):
        load(f"file:{path}")


def test_npz_nan_in_y_is_reported(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((2, 1)), y=np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match=rf"^data: '{re.escape(str(path))}' contains NaN in y$"):
        load(f"file:{path}")


def test_csv_nan_and_inf_are_reported(tmp_path):
    path = _csv(tmp_path / "d.csv", ["x", "label"], [[1, 0], ["nan", 1]])
    with pytest.raises(ValueError, match=r"contains NaN in X$"):
        load(f"file:{path}")
    path = _csv(tmp_path / "e.csv", ["x", "label"], [[1, 0], ["inf", 1]])
    with pytest.raises(ValueError, match=r"contains infinite values in X$"):
        load(f"file:{path}")


def test_npz_missing_array_is_reported(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((2, 1)), labels=np.array([0, 1]))
    with pytest.raises(ValueError, match=rf"^data: '{re.escape(str(path))}' has no array 'y' \(arrays found: X, labels\)$"):
        load(f"file:{path}")


def test_row_count_mismatch_is_reported(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((3, 2)), y=np.array([0, 1]))
    with pytest.raises(ValueError, match=rf"^data: '{re.escape(str(path))}' has 3 rows in X but 2 in y$"):
        load(f"file:{path}")


def test_one_dimensional_x_is_reported(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros(3), y=np.array([0, 1, 0]))
    with pytest.raises(ValueError, match=r"array X must be 2-D \(n_samples, n_features\), got shape \(3,\)$"):
        load(f"file:{path}")


def test_corrupt_npz_is_reported(tmp_path):
    path = tmp_path / "d.npz"
    path.write_bytes(b"not a zip archive")
    with pytest.raises(ValueError, match=rf"^data: cannot read '{re.escape(str(path))}' as .npz"):
        load(f"file:{path}")


def test_unsupported_extension_is_reported(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("1 2 3")
    with pytest.raises(ValueError, match=r"^data: unsupported file extension '.txt' in 'file:.*d.txt'; expected .npz or .csv$"):
        load(f"file:{path}")


def test_missing_file_is_reported(tmp_path):
    path = tmp_path / "d.npz"
    with pytest.raises(ValueError, match=rf"^data: file '{re.escape(str(path))}' does not exist$"):
        load(f"file:{path}")


def test_csv_bad_cell_names_row_column_and_value(tmp_path):
    path = _csv(tmp_path / "d.csv", ["x1", "x2", "label"], [[1, 2, 0], [3, "abc", 1]])
    with pytest.raises(ValueError, match=rf"^data: '{re.escape(str(path))}' row 3, column 'x2': cannot parse 'abc' as a number$"):
        load(f"file:{path}")


def test_csv_ragged_row_and_empty_cell_are_reported(tmp_path):
    path = _csv(tmp_path / "d.csv", ["x1", "label"], [[1, 0], [2, 1, 9]])
    with pytest.raises(ValueError, match=r"row 3 has 3 fields but the header has 2$"):
        load(f"file:{path}")
    path = _csv(tmp_path / "e.csv", ["x1", "label"], [[1, 0], ["", 1]])
    with pytest.raises(ValueError, match=r"row 3, column 'x1' is empty$"):
        load(f"file:{path}")


def test_csv_with_header_only_is_empty(tmp_path):
    path = _csv(tmp_path / "d.csv", ["x1", "label"], [])
    with pytest.raises(ValueError, match=rf"^data: '{re.escape(str(path))}' is empty"):
        load(f"file:{path}")
