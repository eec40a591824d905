"""Mean-field values derived by hand from the formulas (Poole et al. 2016; Schoenholz et al. 2017)."""

import math

import numpy as np
import pytest
from scipy import integrate

from initlab.theory import (activation, c_map, c_star, chi_1, chi_c, critical_sigma_w2, q_by_depth, q_map, q_star,
                            theory)
from initlab.theory.quadrature import expect, expect_pair


def gaussian(f, q):
    """E[f(sqrt(q) z)] by adaptive quadrature, the reference for Gauss-Hermite."""
    density = lambda u: math.exp(-u * u / (2 * q)) / math.sqrt(2 * math.pi * q)  # noqa: E731
    edge = 12 * math.sqrt(q)  # integrate in u, where the activation turns within |u| < 3
    value, _ = integrate.quad(lambda u: f(u) * density(u), -edge, edge, epsabs=1e-14, epsrel=1e-13, limit=800,
                              points=[-3.0, -1.0, 0.0, 1.0, 3.0])
    return value


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "erf", "gelu", "silu"])
@pytest.mark.parametrize("q", [0.01, 0.5, 2.0, 2.5, 10.0, 300.0, 1e4])
def test_quadrature_moments_match_adaptive_quadrature_to_1e_9(name, q):
    phi = activation(name)
    assert phi.second_moment(q) == pytest.approx(gaussian(lambda x: float(phi.phi(x)) ** 2, q), rel=1e-11, abs=1e-9)
    assert phi.derivative_moment(q) == pytest.approx(gaussian(lambda x: float(phi.dphi(x)) ** 2, q), abs=1e-9)


@pytest.mark.parametrize("q", [0.1, 1.0, 5.0, 100.0])
@pytest.mark.parametrize("c", [-0.7, 0.0, 0.5, 0.99])
def test_erf_moments_match_their_closed_forms(q, c):
    # E[erf(u1) erf(u2)] = 2/pi arcsin(2qc / (1 + 2q)); E[erf'(u)^2] = 4/pi / sqrt(1 + 4q) (Williams 1997)
    erf = activation("erf")
    assert erf.cross_moment(q, c) == pytest.approx(2 / math.pi * math.asin(2 * q * c / (1 + 2 * q)), abs=1e-9)
    assert erf.derivative_moment(q) == pytest.approx(4 / math.pi / math.sqrt(1 + 4 * q), abs=1e-10)
    # Price's theorem: E[erf'(u1) erf'(u2)] = d/d(qc) of the above
    assert erf.derivative_cross_moment(q, c) == pytest.approx(
        4 / math.pi / math.sqrt((1 + 2 * q) ** 2 - (2 * q * c) ** 2), abs=1e-9)


@pytest.mark.parametrize("name,s", [("relu", 0.0), ("leaky_relu", 0.2), ("linear", 1.0)])
@pytest.mark.parametrize("c", [-0.9, 0.0, 0.6])
@pytest.mark.slow
def test_piecewise_linear_closed_forms_match_2d_quadrature(name, s, c):
    phi = activation(name, slope=s)
    reference, _ = integrate.dblquad(
        lambda z2, z1: (float(phi.phi(z1)) * float(phi.phi(c * z1 + math.sqrt(1 - c * c) * z2))
                        * math.exp(-(z1 * z1 + z2 * z2) / 2) / (2 * math.pi)), -12, 12, -12, 12, epsabs=1e-10)
    assert phi.cross_moment(1.0, c) == pytest.approx(reference, abs=1e-7)


def test_quadrature_is_exact_for_gaussian_moments():
    assert expect(lambda z: z ** 6) == pytest.approx(15.0, abs=1e-12)
    assert expect(lambda u: u ** 6, q=4.0) == pytest.approx(15.0 * 64, rel=1e-10)
    assert expect_pair(lambda a, b: a * a * b * b, q=4.0, c=0.5) == pytest.approx(16 * 1.5, rel=1e-10)
    assert expect_pair(lambda a, b: a * a * b * b, q=1.0, c=0.5) == pytest.approx(1 + 2 * 0.25, abs=1e-12)


def test_relu_critical_point_is_sigma_w2_2_sigma_b2_0():
    assert critical_sigma_w2("relu", 0.0) == 2.0
    t = theory("relu", 0.0, 2.0)
    assert t.chi_1 == 1.0 and t.phase == "critical" and t.xi_c == math.inf
    assert critical_sigma_w2("leaky_relu", 0.0, slope=0.2) == pytest.approx(2 / 1.04)


def test_tanh_without_bias_is_critical_at_sigma_w2_1_with_q_star_0():
    assert critical_sigma_w2("tanh", 0.0) == 1.0
    t = theory("tanh", 0.0, 1.0)
    assert (t.q_star, t.chi_1, t.phase) == (0.0, 1.0, "critical")
    assert theory("tanh", 0.0, 0.9).q_star == 0.0 and theory("tanh", 0.0, 0.9).chi_1 == pytest.approx(0.9)
    assert theory("tanh", 0.0, 1.1).q_star > 0 and theory("tanh", 0.0, 1.1).phase == "chaotic"


@pytest.mark.parametrize("sigma_b2", [0.01, 0.05, 0.2])
def test_tanh_critical_sigma_w2_solves_chi_1_equals_1_at_its_own_q_star(sigma_b2):
    w = critical_sigma_w2("tanh", sigma_b2)
    q = q_star("tanh", w, sigma_b2)
    assert q_map(q, "tanh", w, sigma_b2) == pytest.approx(q, abs=1e-12)
    tanh = activation("tanh")
    assert w * gaussian(lambda x: (1 - math.tanh(x) ** 2) ** 2, q) == pytest.approx(1.0, abs=1e-8)
    assert 1.0 < w < 2.5  # Schoenholz et al. 2017, fig. 1: the critical line rises from (1, 0)
    assert tanh.name == "tanh"


def test_critical_line_rises_with_sigma_b2():
    values = [critical_sigma_w2("tanh", b) for b in (0.0, 0.05, 0.1, 0.2)]
    assert values == sorted(values) and round(values[1], 3) == 1.761


def test_linear_length_map_grows_geometrically_with_sigma_w2():
    assert q_by_depth(1.0, 5, "linear", 1.5, 0.0) == pytest.approx([1.5 ** k for k in range(6)], rel=1e-15)
    assert q_star("linear", 1.5, 0.0) == math.inf and q_star("linear", 0.5, 0.2) == pytest.approx(0.4)
    assert math.isnan(q_star("linear", 1.0, 0.0))  # every q is a fixed point


def test_ordered_relu_depth_scale_is_minus_one_over_log_chi_1():
    t = theory("relu", 0.1, 1.5)
    assert t.chi_1 == 0.75 and t.phase == "ordered"
    assert t.q_star == pytest.approx(0.1 / (1 - 0.75))
    assert t.xi_c == pytest.approx(-1 / math.log(0.75))


def test_chaotic_erf_without_bias_has_c_star_0_and_slope_from_closed_form():
    t = theory("erf", 0.0, 1.5)
    assert t.phase == "chaotic" and t.c_star == 0.0
    slope = 1.5 * (2 / math.sqrt(math.pi) / math.sqrt(1 + 2 * t.q_star)) ** 2  # sigma_w^2 E[phi']^2 at c = 0
    assert t.xi_c == pytest.approx(-1 / math.log(slope), rel=1e-9)


def test_chaotic_tanh_c_star_is_a_stable_fixed_point_below_1():
    w, b = 2.5, 0.05
    q = q_star("tanh", w, b)
    c = c_star("tanh", w, b)
    assert 0 < c < 1 and c_map(c, q, "tanh", w, b) == pytest.approx(c, abs=1e-12)
    assert 0 < chi_c(c, q, "tanh", w) < 1 < chi_1("tanh", w, b)


def test_c_map_slope_at_1_equals_chi_1():
    w, b = 1.3, 0.05
    q = q_star("tanh", w, b)
    assert chi_c(1.0, q, "tanh", w) == pytest.approx(chi_1("tanh", w, b), abs=1e-12)
    h = 1e-5  # finite difference of the c-map
    assert (1 - c_map(1 - h, q, "tanh", w, b)) / h == pytest.approx(chi_1("tanh", w, b), rel=1e-4)


def test_phase_uses_a_1e_6_tolerance_on_chi_1():
    w = critical_sigma_w2("tanh", 0.05)
    assert theory("tanh", 0.05, w).phase == "critical"
    assert theory("tanh", 0.05, w * 0.99).phase == "ordered" and theory("tanh", 0.05, w * 1.01).phase == "chaotic"


def test_json_has_null_for_infinite_values():
    document = theory("tanh", 0.05).to_json()
    assert document["xi_c"] is None and document["phase"] == "critical"
    assert set(document) >= {"q_star", "chi_1", "xi_c", "critical_sigma_w2", "phase"}


def test_unbounded_activation_without_critical_point_says_so():
    with pytest.raises(ValueError, match="sigma_b2: gelu has no critical sigma_w2"):
        critical_sigma_w2("gelu", 0.05)
    assert theory("gelu", 0.05, 1.5).to_json()["critical_sigma_w2"] is None


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match=r"activation: unknown activation 'tahn' \(did you mean 'tanh'\?\)"):
        theory("tahn", 0.05)
    with pytest.raises(ValueError, match="sigma_b2: expected a non-negative number, got -1"):
        theory("tanh", -1.0)
    with pytest.raises(ValueError, match="sigma_w2: expected a non-negative number, got -2"):
        theory("tanh", 0.05, -2.0)
    assert np.isfinite(theory("sigmoid", 0.05).critical_sigma_w2)
