"""Specs that are not strings and shapes that cannot be drawn are refused before any draw."""

import numpy as np
import pytest

from initlab.init import initializer


@pytest.mark.parametrize(("spec", "shown"), [
    (None, "got None"), (5, "got 5"), (["he_normal"], "got ['he_normal']"),
    (np.zeros((2, 3)), "got a value of type ndarray with shape (2, 3)"),
])
def test_a_spec_that_is_not_a_string_is_a_type_error_naming_the_spec(spec, shown):
    with pytest.raises(TypeError) as error:
        initializer(spec)
    message = str(error.value)
    assert message.startswith("init: expected a spec string like 'he_normal'") and message.endswith(shown)
    assert "\n" not in message
    assert isinstance(error.value, ValueError)  # the CLI's one-line handler catches it too


def test_more_than_32_dimensions_is_refused_naming_shape():
    with pytest.raises(ValueError, match=r"^shape: expected at most 32 dimensions, got 33$"):
        initializer("he_normal")((1,) * 33, rng=0)
    assert initializer("he_normal")((1,) * 32, rng=0).shape == (1,) * 32


def test_a_tensor_above_the_memory_budget_is_refused_before_numpy_allocates():
    # 1e12 float64 values: NumPy itself would raise MemoryError (or start filling pages).
    with pytest.raises(ValueError, match=r"^shape: this run needs about 24 TB \(estimate\), above the memory budget"
                                         r".*\[1000000, 1000000\] has 1,000,000,000,000 elements$"):
        initializer("he_normal")((10**6, 10**6), rng=0)
    with pytest.raises(ValueError, match=r"^shape: this run needs about 2.4 MB \(estimate\), above the memory budget "
                                         r"of 1 MB \(--max-memory, max_memory\)"):
        initializer("normal(std=1)")((100, 1000), rng=0, max_memory="1MB")
    assert initializer("normal(std=1)")((100, 1000), rng=0, max_memory="3MB").shape == (100, 1000)
