"""Image folders: one subfolder per class, each image flattened to one row of RGB values in [0, 1]."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from initlab._errors import ArgumentError

IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".pbm", ".pgm", ".png", ".ppm", ".tif", ".tiff", ".webp")


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def _class_files(root: Path, spec: str) -> tuple[list[str], list[list[Path]]]:
    """Sorted class names and, per class, its sorted image files (by suffix, hidden files skipped)."""
    try:
        return _listed(root, spec)
    except OSError as error:  # a folder that cannot be listed (permissions, I/O error)
        raise ArgumentError("data", f"cannot read folder '{error.filename or root}' of '{spec}' "
                                    f"({error.strerror or error})") from None


def _listed(root: Path, spec: str) -> tuple[list[str], list[list[Path]]]:
    if not root.exists():
        raise ArgumentError("data", f"folder '{root}' does not exist")
    if not root.is_dir():
        raise ArgumentError("data", f"'{root}' is not a folder; '{spec}' needs a folder with one subfolder per class")
    folders = sorted((p for p in root.iterdir() if p.is_dir() and _visible(p)), key=lambda p: p.name)
    if not folders:
        raise ArgumentError("data", f"folder '{root}' has no class subfolders; expected e.g. '{root}/cats/1.jpg'")
    if len(folders) == 1:
        raise ArgumentError("data", f"'{spec}' has only one class folder ('{folders[0].name}'); need at least 2")
    files = []
    for folder in folders:
        images = sorted(p for p in folder.iterdir() if p.is_file() and _visible(p) and p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            raise ArgumentError(
                "data", f"class folder '{folder}' has no images (looked for {', '.join(IMAGE_SUFFIXES)})"
            )
        files.append(images)
    return [folder.name for folder in folders], files


def _read_rgb(path: Path, image_size: int | None) -> np.ndarray:
    """One image as a uint8 array (height, width, 3)."""
    from PIL import Image, UnidentifiedImageError  # here, not at import: keeps the CLI's start-up short

    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
    except UnidentifiedImageError:
        raise ArgumentError("data", f"cannot read image '{path}' (cannot identify image file)") from None
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ArgumentError("data", f"cannot read image '{path}' ({error})") from None
    if image_size is not None:
        rgb = rgb.resize((image_size, image_size), Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.uint8)


def image_folder(folder: str, image_size: int | None, spec: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load `folder/<class>/<image>` as `(X, y, class_names)`.

    Classes are the subfolder names sorted, labelled `0..k-1`; images within a class are taken
    in sorted file-name order (files with other suffixes and hidden files are skipped). Each
    image is opened with Pillow, converted to RGB, resized to `image_size` x `image_size`
    (bilinear) if given, flattened in (row, column, channel) order and divided by 255. Without
    `image_size` all images must share one size.

    >>> import tempfile
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> for name, value in [("cat", 0), ("dog", 255)]:
    ...     (root / name).mkdir()
    ...     Image.new("RGB", (3, 2), (value, 0, 0)).save(root / name / "a.png")
    >>> X, y, names = image_folder(str(root), None, "images:" + str(root))
    >>> X.shape, y.tolist(), names, X[1, :3].tolist()
    ((2, 18), [0, 1], ['cat', 'dog'], [1.0, 0.0, 0.0])
    """
    root = Path(folder).expanduser()
    names, files = _class_files(root, spec)
    paths = [path for class_files in files for path in class_files]
    y = np.repeat(np.arange(len(names), dtype=np.int64), [len(class_files) for class_files in files])
    first = _read_rgb(paths[0], image_size)
    X = np.empty((len(paths), first.size), dtype=np.float64)
    X[0] = first.reshape(-1)
    for row, path in enumerate(paths[1:], start=1):
        pixels = _read_rgb(path, image_size)
        if pixels.shape != first.shape:
            size, first_size = pixels.shape[1::-1], first.shape[1::-1]
            raise ArgumentError(
                "data", f"images have different sizes ({first_size} in {paths[0].relative_to(root)}, "
                f"{size} in {path.relative_to(root)}); pass image_size= to resize"
            )
        X[row] = pixels.reshape(-1)
    X /= 255.0
    return X, y, names
