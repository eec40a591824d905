"""The headline numbers of examples/classic_results.py stay where the papers put them."""

import math

import pytest

from examples.classic_results import correlation_depth, signal_ratio
from initlab.theory.meanfield import theory


@pytest.mark.slow
def test_xavier_halves_a_relu_nets_variance_per_layer_and_he_keeps_it():
    # 29 halvings of the variance: std ratio 2^-14.5; over 5 seeds the median is within a factor 1.5 (finite width
    # spreads log q by about sqrt(29 * 5 / 100) = 1.2 per net, /sqrt(5) for the median's spread: 0.5 in log).
    assert abs(math.log(signal_ratio("xavier_normal")) - math.log(2 ** -14.5)) < math.log(1.5)
    assert abs(math.log(signal_ratio("he_normal"))) < math.log(1.5)


@pytest.mark.slow
def test_correlations_approach_one_on_the_mean_field_depth_scale_xi_c():
    assert correlation_depth(1.0, 0.05) == pytest.approx(theory("tanh", 0.05, 1.0).xi_c, rel=0.1)
