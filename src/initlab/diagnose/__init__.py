"""The init doctor: one forward and one backward pass at initialization, layer by layer, compared
with mean-field theory, and a verdict with a fix.

>>> from initlab.data import load
>>> from initlab.diagnose import diagnose_mlp
>>> from initlab.nn.mlp import MLP
>>> X, y = load("circles", n_samples=256, seed=0)
>>> d = diagnose_mlp(MLP([2] + [100] * 30 + [1], activation="relu", init="xavier_normal", seed=0), X, y)
>>> d.verdict, d.recommendation["scheme"]
('vanishing', 'he_normal')
>>> diagnose_mlp(MLP([2] + [100] * 30 + [1], activation="relu", init="he_normal", seed=0), X, y).verdict
'ok'
"""

from initlab._lazy import lazy_attributes

# Imported on first use: the CLI reads initlab.diagnose.command without the numerical modules.
_EXPORTS = {
    "capture": ("Capture",),
    "doctor": ("diagnose", "diagnose_mlp", "diagnose_torch"),
    "expected": ("Expected",),
    "mlp_probe": ("capture_mlp",),
    "stats": ("LayerStats",),
    "verdict": ("VERDICTS", "Diagnosis"),
}
__getattr__ = lazy_attributes(__name__, _EXPORTS)
__all__ = sorted(name for names in _EXPORTS.values() for name in names)
