"""`load(spec)`: one entry point from a dataset spec string to `(X, y)`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from initlab import memory
from initlab._errors import ArgumentError, ArgumentTypeError, unknown_choice
from initlab._random import as_generator
from initlab.data import synthetic
from initlab.data._validate import check_image_size, check_n_samples, check_noise, recode
from initlab.data.digits import digits, parse_classes
from initlab.data.files import table_file
from initlab.data.images import image_folder
from initlab.data.teacher import NOISE as TEACHER_NOISE, parse_teacher, teacher_set


@dataclass(frozen=True)
class _Generated:
    """A synthetic set: `make(n_samples, rng, [noise=...], [param=...])`."""

    make: Callable[..., tuple[np.ndarray, np.ndarray]]
    noise: float | None  # default noise; None means the set has no noise
    param: str | None = None  # keyword filled from 'name:K'
    default: int = 2
    minimum: int = 2
    param_is_classes: bool = True


GENERATED = {
    "circles": _Generated(synthetic.circles, noise=0.05),
    "moons": _Generated(synthetic.moons, noise=0.1),
    "blobs": _Generated(synthetic.blobs, noise=1.0, param="centers"),
    "spirals": _Generated(synthetic.spirals, noise=0.2, param="arms"),
    "xor": _Generated(synthetic.xor, noise=0.1),
    "gaussian": _Generated(synthetic.gaussian, noise=None, param="n_features", minimum=1, param_is_classes=False),
}


Labelled = tuple[np.ndarray, np.ndarray, list[str] | None]  # X, y, class names (None: regression)


def _digits(arg: str, spec: str, image_size: int | None) -> Labelled:
    return digits(parse_classes(arg, spec) if arg or ":" in spec else None, image_size)


def _images(arg: str, spec: str, image_size: int | None) -> Labelled:
    if not arg:
        raise ArgumentError("data", f"'{spec}' needs a folder path, e.g. 'images:data/pets'")
    return image_folder(arg, image_size, spec)


def _file(arg: str, spec: str, image_size: int | None) -> Labelled:
    if not arg:
        raise ArgumentError("data", f"'{spec}' needs a file path, e.g. 'file:data/train.npz'")
    return table_file(arg, spec)


LOADED = {"digits": _digits, "images": _images, "file": _file}

TEACHER = "teacher"  # teacher:linear / teacher:mlp regression sets (`initlab.data.teacher`), drawn like GENERATED
DATASETS = tuple(GENERATED) + (TEACHER,) + tuple(LOADED)
USAGE = ("circles, moons, blobs[:K], spirals[:K], xor, gaussian:D, teacher:linear|mlp[:n_features=D,n_outputs=K], "
         "digits[:0,1,...], images:PATH, file:PATH")


def drawn(spec: str) -> bool:
    """Whether a spec's data is drawn from the seed (GENERATED sets and teachers), not read from disk."""
    name = str(spec).partition(":")[0].strip().lower()
    return name in GENERATED or name == TEACHER


def generated_features(spec: str) -> int | None:
    """Features of a generated data spec (2 for the 2-D sets, D for gaussian:D), known before the
    data exists; None for files, images and digits, whose width is known only once read.

    >>> generated_features("gaussian:30"), generated_features("moons"), generated_features("digits")
    (30, 2, None)
    >>> generated_features("teacher:mlp:n_features=7")
    7
    """
    name, _, arg = str(spec).partition(":")
    name = name.strip().lower()
    if name == TEACHER:
        try:
            return parse_teacher(str(spec)).n_features
        except ValueError:
            return None
    if name not in GENERATED:
        return None
    return int(arg) if name == "gaussian" and arg.strip().isdigit() else 2


def _parameter(entry: _Generated, arg: str, spec: str) -> int:
    if not arg:
        return entry.default
    try:
        value = int(arg)
    except ValueError:
        value = None
    if value is None or value < entry.minimum:
        raise ArgumentError("data", f"'{spec}': {entry.param} must be an integer >= {entry.minimum}, got '{arg}'")
    return value


def load(
    spec: str,
    *,
    n_samples: int = 300,
    noise: float | None = None,
    seed: int | np.random.Generator = 0,
    image_size: int | None = None,
    max_memory: str | int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load a dataset by spec: `X` float64 `(n_samples, n_features)` and `y` `(n_samples,)`.

    `load_labelled` is the same and also returns the class names.

    Specs (`DATASETS` lists the names):

    - `circles` (noise 0.05, factor 0.5), `moons` (0.1), `xor` (0.1), `spirals[:K]` (K arms,
      default 2, angle noise 0.2), `blobs[:K]` (K centers, default 2, cluster std 1.0):
      2-D sets with balanced classes when `n_samples` is a multiple of the class count;
    - `gaussian:D`: standard-normal inputs with D features (default 2), random balanced 0/1
      labels unrelated to the inputs;
    - `teacher:linear`, `teacher:mlp` (options `:n_features=D,n_outputs=K[,hidden=H]`, noise 0.1):
      standard-normal inputs and a seed-derived teacher network's outputs plus noise as float targets,
      (n_samples, K) for K > 1 (see `initlab.data.teacher`);
    - `digits[:a,b,...]`: scikit-learn 8x8 digits scaled to [0, 1], optionally only classes
      a, b, ... relabelled 0, 1, ... in that order;
    - `images:PATH`: one subfolder per class, RGB pixels / 255 (see `image_folder`);
    - `file:PATH`: `.npz` with arrays `X`, `y` or `.csv` with a header (see `table_file`).

    `n_samples` is ignored by digits, images and files (all rows are returned); `noise=None`
    takes the dataset's default; `image_size` applies to `images:` and `digits` only. `y` is int64 classes
    `0..k-1`, except float64 for file labels that are not integers (regression). The same
    `seed` gives bit-identical arrays. A generated set whose memory (`initlab.memory.data`) is above
    `max_memory` (`initlab.memory.budget`: half the RAM by default) is refused before it is drawn.

    >>> X, y = load("moons", n_samples=10, seed=1)
    >>> X.shape, X.dtype.name, y.dtype.name, np.bincount(y).tolist()
    ((10, 2), 'float64', 'int64', [5, 5])
    >>> np.bincount(load("spirals:3", n_samples=9)[1]).tolist()
    [3, 3, 3]
    """
    X, y, _ = load_labelled(spec, n_samples=n_samples, noise=noise, seed=seed, image_size=image_size,
                            max_memory=max_memory)
    return X, y


def load_labelled(spec: str, *, n_samples: int = 300, noise: float | None = None,
                  seed: int | np.random.Generator = 0, image_size: int | None = None,
                  classes: list[str] | None = None, max_memory: str | int | None = None) -> Labelled:
    """`load`, plus the class name of each label (folder names, file labels, digits; '0', '1', ...
    for generated sets; None for real-valued targets).

    With `classes` (another set's names, e.g. the training set's), labels are re-expressed as
    indices into `classes`, so a test set with fewer or differently ordered classes keeps the
    training meaning; a class missing from `classes` is an error.

    >>> X, y, names = load_labelled("digits:5,3", classes=["3", "5", "8"])
    >>> sorted(set(y.tolist())), names
    ([0, 1], ['3', '5', '8'])
    """
    X, y, names = _load(spec, n_samples, noise, seed, image_size, max_memory)
    if classes is None:
        return X, y, names
    return X, recode(y, names, list(classes), f"'{spec}'"), list(classes)


def _load(spec, n_samples, noise, seed, image_size, max_memory=None) -> Labelled:
    if not isinstance(spec, str):
        raise ArgumentTypeError("data", f"expected a dataset spec string such as 'moons', got {spec!r}")
    n_samples = check_n_samples(n_samples)
    noise = check_noise(noise)
    image_size = check_image_size(image_size)
    rng = as_generator(seed, "seed")
    name, _, arg = spec.partition(":")
    name = name.strip().lower()
    if name not in DATASETS:
        raise unknown_choice("data", "dataset", name, DATASETS, hint=f"choices: {USAGE}")
    has_noise = name == TEACHER or (name in GENERATED and GENERATED[name].noise is not None)
    if noise is not None and not has_noise:
        raise ArgumentError("noise", f"dataset '{name}' has no noise setting; leave noise unset (got {noise})")
    if image_size is not None and name not in ("images", "digits"):
        raise ArgumentError("image_size", f"only 'images:PATH' and 'digits' are resized, not '{spec}' (got {image_size})")
    if name in LOADED:
        return LOADED[name](arg.strip(), spec, image_size)
    if name == TEACHER:
        teacher = parse_teacher(spec)
        weights = 8.0 * teacher.parameter_count  # drawn in memory before the data
        memory.check("n_samples", memory.data(n_samples, teacher.n_features + teacher.n_outputs) + weights,
                     max_memory, f"{n_samples:,} rows of {teacher.n_features} features and a teacher of "
                                 f"{teacher.parameter_count:,} weights; use fewer samples or a smaller teacher")
        X, y = teacher_set(n_samples, rng, TEACHER_NOISE if noise is None else noise, teacher)
        return X, y, None
    entry = GENERATED[name]
    kwargs: dict[str, float | int] = {}
    if has_noise:
        kwargs["noise"] = entry.noise if noise is None else noise
    if entry.param is not None:
        kwargs[entry.param] = _parameter(entry, arg, spec)
    elif arg:
        raise ArgumentError("data", f"dataset '{name}' takes no parameter, got '{spec}'")
    n_classes = kwargs[entry.param] if entry.param is not None and entry.param_is_classes else 2
    if n_samples < n_classes:
        raise ArgumentError("n_samples", f"'{spec}' has {n_classes} classes, need at least that many samples, got {n_samples}")
    features = generated_features(spec) or 2
    memory.check("n_samples", memory.data(n_samples, features), max_memory,
                 f"{n_samples:,} rows of {features} features; use fewer samples")
    X, y = entry.make(n_samples, rng, **kwargs)
    return X, y, [str(k) for k in range(int(y.max()) + 1)]
