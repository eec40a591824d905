"""`images:PATH` folders built with Pillow in tmp_path: exact pixel values, label order, errors."""

import re
import numpy as np
import pytest
from PIL import Image

from initlab.data import load

WIDTH, HEIGHT = 6, 5


def _pixels(seed: int) -> np.ndarray:
    """A known (height, width, 3) uint8 image."""
    return np.random.default_rng(seed).integers(0, 256, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)


def _folder(root, classes=("zebra", "ant"), per_class=3):
    """classes x per_class PNG images with known pixels; returns {(class, file): pixels}."""
    written = {}
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = _pixels(10 * c + i)
            Image.fromarray(pixels, "RGB").save(root / name / f"{i}.png")
            written[name, f"{i}.png"] = pixels
    return written


def test_image_folder_rows_are_flattened_rgb_over_255_with_sorted_class_labels(tmp_path):
    written = _folder(tmp_path)
    X, y = load(f"images:{tmp_path}", n_samples=1)
    assert X.shape == (6, WIDTH * HEIGHT * 3) and X.dtype == np.float64
    assert y.dtype == np.int64 and y.tolist() == [0, 0, 0, 1, 1, 1]  # 'ant' < 'zebra'
    expected = [written["ant", f"{i}.png"] for i in range(3)] + [written["zebra", f"{i}.png"] for i in range(3)]
    np.testing.assert_array_equal(X, np.stack([p.reshape(-1) for p in expected]) / 255.0)


def test_first_row_starts_with_rgb_of_top_left_pixel(tmp_path):
    _folder(tmp_path)
    X, _ = load(f"images:{tmp_path}")
    top_left = _pixels(10)[0, 0]  # ant/0.png
    np.testing.assert_array_equal(X[0, :3], top_left / 255.0)


def test_grayscale_and_palette_images_are_converted_to_rgb(tmp_path):
    for name, image in [("gray", Image.new("L", (4, 3), 51)), ("pal", Image.new("P", (4, 3), 0))]:
        (tmp_path / name).mkdir()
        image.save(tmp_path / name / "a.png")
    X, y = load(f"images:{tmp_path}")
    assert X.shape == (2, 4 * 3 * 3)
    np.testing.assert_array_equal(X[0], np.full(36, 51 / 255.0))


def test_image_size_resizes_every_image_to_a_square(tmp_path):
    for name, size, color in [("a", (30, 20), (255, 0, 0)), ("b", (7, 9), (0, 0, 255))]:
        (tmp_path / name).mkdir()
        Image.new("RGB", size, color).save(tmp_path / name / "x.png")
    X, y = load(f"images:{tmp_path}", image_size=4)
    assert X.shape == (2, 4 * 4 * 3)
    np.testing.assert_array_equal(X[0].reshape(4, 4, 3), np.broadcast_to([1.0, 0.0, 0.0], (4, 4, 3)))
    np.testing.assert_array_equal(X[1].reshape(4, 4, 3), np.broadcast_to([0.0, 0.0, 1.0], (4, 4, 3)))


def test_hidden_and_non_image_files_are_skipped(tmp_path):
    _folder(tmp_path, per_class=1)
    (tmp_path / "ant" / "notes.txt").write_text("not an image")
    (tmp_path / "ant" / ".DS_Store").write_bytes(b"\0\1")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "README.md").write_text("top-level files are not classes")
    X, y = load(f"images:{tmp_path}")
    assert y.tolist() == [0, 1]


def test_missing_folder_is_reported(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ValueError, match=rf"^data: folder '{re.escape(str(missing))}' does not exist$"):
        load(f"images:{missing}")


def test_a_file_instead_of_a_folder_is_reported(tmp_path):
    path = tmp_path / "a.png"
    Image.new("RGB", (2, 2)).save(path)
    with pytest.raises(ValueError, match=rf"^data: '{re.escape(str(path))}' is not a folder"):
        load(f"images:{path}")


def test_folder_without_class_subfolders_is_reported(tmp_path):
    Image.new("RGB", (2, 2)).save(tmp_path / "a.png")
    with pytest.raises(ValueError, match=rf"^data: folder '{re.escape(str(tmp_path))}' has no class subfolders"):
        load(f"images:{tmp_path}")


def test_single_class_folder_is_reported(tmp_path):
    _folder(tmp_path, classes=("cats",), per_class=1)
    with pytest.raises(ValueError, match=rf"^data: 'images:{re.escape(str(tmp_path))}' has only one class folder \('cats'\); need at least 2$"):
        load(f"images:{tmp_path}")


def test_class_folder_without_images_is_reported(tmp_path):
    _folder(tmp_path, classes=("cats",), per_class=1)
    (tmp_path / "dogs").mkdir()
    (tmp_path / "dogs" / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match=rf"^data: class folder '{re.escape(str(tmp_path / 'dogs'))}' has no images \(looked for "):
        load(f"images:{tmp_path}")


def test_unreadable_image_names_the_file(tmp_path):
    _folder(tmp_path, classes=("cats", "dogs"), per_class=1)
    bad = tmp_path / "cats" / "a.jpg"
    bad.write_bytes(b"this is not a jpeg")
    with pytest.raises(ValueError, match=rf"^data: cannot read image '{re.escape(str(bad))}' \(cannot identify image file\)$"):
        load(f"images:{tmp_path}")


def test_truncated_image_names_the_file(tmp_path):
    _folder(tmp_path, classes=("cats", "dogs"), per_class=1)
    data = (tmp_path / "cats" / "0.png").read_bytes()
    (tmp_path / "cats" / "1.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=rf"^data: cannot read image '{re.escape(str(tmp_path / 'cats' / '1.png'))}' \("):
        load(f"images:{tmp_path}")


def test_different_sizes_without_image_size_are_reported_with_both_sizes(tmp_path):
    for name, size in [("cats", (150, 150)), ("dogs", (100, 80))]:
        (tmp_path / name).mkdir()
        Image.new("RGB", size).save(tmp_path / name / f"{name[0]}.png")
    message = r"^data: images have different sizes \(\(150, 150\) in cats/c.png, \(100, 80\) in dogs/d.png\); pass image_size= to resize$"
    with pytest.raises(ValueError, match=message):
        load(f"images:{tmp_path}")
    assert load(f"images:{tmp_path}", image_size=3)[0].shape == (2, 27)


@pytest.mark.parametrize("image_size", [0, -1, 2.0])
def test_image_size_must_be_a_positive_integer(tmp_path, image_size):
    with pytest.raises(ValueError, match=rf"^image_size: expected a positive integer.*got {image_size!r}$"):
        load(f"images:{tmp_path}", image_size=image_size)


def test_images_spec_without_path_is_reported():
    with pytest.raises(ValueError, match=r"^data: 'images:' needs a folder path"):
        load("images:")
