"""Damaged data files are one ValueError naming `data` and the file, never a library's own error."""

import csv

import numpy as np
import pytest
from PIL import Image

from initlab.data import load


@pytest.fixture
def npz(tmp_path):
    path = tmp_path / "good.npz"
    np.savez(path, X=np.random.default_rng(0).normal(size=(50, 3)), y=np.arange(50) % 2)
    return path


def test_truncated_npz(tmp_path, npz):
    data = npz.read_bytes()
    for name, cut in (("half.npz", data[: len(data) // 2]), ("tail.npz", data[:-30])):
        (tmp_path / name).write_bytes(cut)
        with pytest.raises(ValueError, match=rf"^data: cannot read '.*{name}' as .npz \(truncated or corrupt: "):
            load(f"file:{tmp_path / name}")


@pytest.mark.parametrize(("content", "reason"), [(b"hello", "it is not a zip archive"), (b"", "it is empty")])
def test_npz_that_is_not_a_zip_archive(tmp_path, content, reason):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"^data: cannot read '.*bad.npz' as .npz \({reason}; expected a file "
                                         r"written by numpy.savez\)$"):
        load(f"file:{path}")


def test_csv_with_a_field_above_the_csv_module_limit(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("a,label\n" + "1" * (csv.field_size_limit() + 1) + ",0\n2,1\n")
    with pytest.raises(ValueError, match=r"^data: cannot read '.*huge.csv' as CSV \(field larger than field limit"):
        load(f"file:{path}")


@pytest.mark.parametrize(("text", "pattern"), [
    ("", r"^data: '.*d.csv' is empty; expected a header row, e.g. 'x1,x2,label'$"),
    ("1,2,0\n3,4,1\n", r"^data: '.*d.csv' has no header row \(its first row '1,2,0' is all numbers\); add one"),
    ("x1,x2,label\n", r"^data: '.*d.csv' is empty \(X has shape \(0, 2\)\)$"),
])
def test_empty_or_headerless_csv(tmp_path, text, pattern):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=pattern):
        load(f"file:{path}")


def test_csv_that_is_not_utf8_text(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"a,label\n\x80\x81,1\n")
    with pytest.raises(ValueError, match=r"^data: cannot read '.*d.csv' as CSV text \(not UTF-8: byte 0x80 at position 8\)$"):
        load(f"file:{path}")


def test_image_folder_with_an_unreadable_or_truncated_image_names_the_file(tmp_path):
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
        Image.new("RGB", (30, 30), (10, 20, 30)).save(tmp_path / name / "a.png")
    (tmp_path / "dog" / "b.png").write_text("not an image")
    with pytest.raises(ValueError, match=r"^data: cannot read image '.*dog/b.png' \(cannot identify image file\)$"):
        load(f"images:{tmp_path}")
    whole = (tmp_path / "cat" / "a.png").read_bytes()
    (tmp_path / "dog" / "b.png").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"^data: cannot read image '.*dog/b.png' \(image file is truncated"):
        load(f"images:{tmp_path}")


def test_a_generated_set_above_the_memory_budget_is_refused_before_it_is_drawn():
    with pytest.raises(ValueError, match=r"^n_samples: this run needs about 32 TB \(estimate\), above the memory budget"
                                         r".*; 1,000,000,000 rows of 1000 features; use fewer samples$"):
        load("gaussian:1000", n_samples=10**9)
