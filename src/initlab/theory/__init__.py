"""Signal propagation at initialization: mean-field length and correlation maps, q*, chi_1, xi_c,
the order/chaos boundary (Poole et al. 2016; Schoenholz et al. 2017), and the finite-width
fluctuations around them (`initlab.theory.finite_width`; Hanin & Rolnick 2018, generalised; exact for
zero-bias relu, leaky relu and linear layers, `initlab.theory.exact_layer`)."""

from initlab.theory import finite_width
from initlab.theory.activations import NAMES as ACTIVATIONS, Activation, activation
from initlab.theory.meanfield import (Theory, c_map, c_star, chi_1, chi_c, critical_sigma_w2, phase_of, q_by_depth,
                                      q_map, q_star, theory)

__all__ = ["ACTIVATIONS", "Activation", "Theory", "activation", "c_map", "c_star", "chi_1", "chi_c",
           "critical_sigma_w2", "finite_width", "phase_of", "q_by_depth", "q_map", "q_star", "theory"]
