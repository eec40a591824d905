"""`initlab.activations`: the one list of activations, and every layer of initlab reading it."""

import subprocess
import sys

import numpy as np
import pytest

from initlab import activations as table
from initlab.diagnose.stats import bounds, can_die
from initlab.nn import ACTIVATIONS as ENGINE
from initlab.nn.ensemble import ACTIVATION_CODES
from initlab.theory import ACTIVATIONS as THEORY, activation

WITH_FORWARD = [row for row in table.ACTIVATIONS if row.forward is not None]


def test_engine_theory_and_kernel_take_their_activations_from_the_table():
    assert list(ENGINE) == [row.name for row in table.ACTIVATIONS if row.kernel is not None]
    assert ACTIVATION_CODES == {row.name: row.kernel for row in table.ACTIVATIONS if row.kernel is not None}
    assert len(set(ACTIVATION_CODES.values())) == len(ACTIVATION_CODES)  # one kernel branch per code
    assert tuple(THEORY) == tuple(row.name for row in WITH_FORWARD)
    assert all(ENGINE[name] is table.BY_NAME[name] for name in ENGINE)  # the engine uses the rows themselves


def test_every_row_is_complete_for_the_layers_that_use_it():
    for row in table.ACTIVATIONS:
        assert (row.forward is None) == (row.derivative is None), row.name
        assert row.kernel is None or row.forward is not None, row.name  # the engine needs phi and phi'
        assert row.slope is None or row.forward is not None, row.name
        assert row.forward is not None or row.torch, row.name  # a row without phi is a torch activation
    assert len(table.BY_NAME) == len(table.ACTIVATIONS)


@pytest.mark.parametrize("row", WITH_FORWARD, ids=lambda row: row.name)
def test_derivative_is_the_central_difference_of_forward(row):
    # Central differences of step 1e-6 have error ~1e-12 from rounding and h^2 |phi'''| ~ 1e-12 from the
    # step, so 1e-8 is a wide margin; the kinks (relu, leaky_relu at 0) are avoided by the grid.
    z = np.linspace(-4.0, 4.0, 80) + 0.0123
    h = 1e-6
    numeric = (row.forward(z + h) - row.forward(z - h)) / (2 * h)
    np.testing.assert_allclose(row.derivative(z, row.forward(z)), numeric, rtol=0, atol=1e-8)


@pytest.mark.parametrize("row", WITH_FORWARD, ids=lambda row: row.name)
def test_theory_phi_is_the_rows_forward(row):
    z = np.linspace(-5.0, 5.0, 41)
    phi = activation(row.name)
    np.testing.assert_array_equal(phi.phi(z), row.forward(z))
    np.testing.assert_array_equal(phi.dphi(z), row.derivative(z, row.forward(z)))  # from z alone = given phi(z)
    assert phi.slope == row.slope


def test_piecewise_linear_rows_have_the_slope_their_forward_has():
    for row in WITH_FORWARD:
        if row.slope is not None:
            assert row.forward(np.array([-2.0]))[0] == -2.0 * row.slope and row.forward(np.array([3.0]))[0] == 3.0


def test_torch_spellings_resolve_and_compute_the_rows_phi():
    torch = pytest.importorskip("torch")
    from initlab.torch.trace import CANONICAL, KNOWN_FUNCTIONS, KNOWN_METHODS, KNOWN_MODULES

    x = torch.linspace(-5.0, 5.0, 41, dtype=torch.float64)
    for row in table.ACTIVATIONS:
        for spelling in row.torch:
            place, name = spelling.split(".", 1)
            if place == "nn":
                module = getattr(torch.nn, name)
                assert module in KNOWN_MODULES, spelling
                assert CANONICAL.get(module) == (row.name if row.forward is not None else None), spelling
                y = module(0.5, 0.0)(x.clone()) if name == "Threshold" else module()(x.clone())
            elif place == "Tensor":
                assert KNOWN_METHODS[name] == row.name, spelling
                y = getattr(x.clone(), name)()
            else:
                function = getattr({"F": torch.nn.functional, "torch": torch}[place], name)
                assert KNOWN_FUNCTIONS[function] == row.name, spelling
                y = function(x.clone())
            if row.forward is not None:  # torch computes the row's own phi (to float64 rounding)
                np.testing.assert_allclose(y.numpy(), row.forward(x.numpy()), rtol=0, atol=1e-12, err_msg=spelling)


def test_diagnose_reads_dead_and_saturating_activations_from_the_table():
    assert [row.name for row in table.ACTIVATIONS if can_die(row.name)] == ["relu", "relu6"]
    assert can_die("ReLU6") and not can_die("leaky_relu") and not can_die("identity")
    assert bounds("Hardtanh") == (-1.0, 1.0) and bounds("relu6") == (None, 6.0) and bounds("gelu") is None
    assert {row.name for row in table.ACTIVATIONS if bounds(row.name)} == {
        "tanh", "sigmoid", "erf", "relu6", "hardtanh", "hardsigmoid", "softsign"}


def test_importing_the_table_imports_neither_scipy_nor_torch_nor_numba():
    code = ("import sys, initlab.activations as t; t.names('kernel'); "
            "print(sorted(m for m in ('scipy', 'torch', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120).stdout
    assert out.strip() == "[]"
