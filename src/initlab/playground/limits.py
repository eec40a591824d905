"""What `GET /api/limits` answers: the playground's limits, choices, defaults and every registry scheme
with its numeric parameters (slider ranges for the page; the ranges are the page's, not theory's).

>>> document = limits()
>>> document["max_layers"], document["max_schemes"], document["defaults"]["init"]
(8, 4, 'he_normal')
>>> [p["name"] for p in next(s for s in document["schemes"] if s["name"] == "normal")["parameters"]]
['std', 'mean']
"""

from __future__ import annotations

from initlab.playground import settings as limits_of

# (min, max, log scale) of a slider per parameter name; `(scheme, name)` where one name means two things
SLIDERS = {
    "std": (0.001, 100.0, True), "mean": (-5.0, 5.0, False), "value": (-5.0, 5.0, False),
    "gain": (0.01, 10.0, True), "limit": (0.001, 10.0, True), "low": (-5.0, 5.0, False),
    "high": (-5.0, 5.0, False), "epsilon": (0.001, 10.0, True), "scale": (0.01, 100.0, True),
    "a": (0.0, 1.0, False), "sigma_b2": (0.0, 1.0, False), "slope": (0.0, 1.0, False),
    ("truncated_normal", "a"): (-5.0, 0.0, False), ("truncated_normal", "b"): (0.0, 5.0, False),
}


def scheme_parameters(scheme) -> list[dict]:
    """The numeric parameters of a registry scheme (default None: the scheme picks it from others)."""
    found = []
    for parameter in scheme.parameters:
        bounds = SLIDERS.get((scheme.name, parameter.name), SLIDERS.get(parameter.name))
        default = parameter.default
        if bounds is None or not (default is None or isinstance(default, (int, float))):
            continue
        low, high, log = bounds
        found.append({"name": parameter.name, "default": default, "min": low, "max": high, "log": log})
    return found


def limits() -> dict:
    from initlab.init.registry import SCHEMES
    from initlab.nn.activations import ACTIVATIONS
    from initlab.nn.optimizers import OPTIMIZERS
    from initlab.playground.live import IDLE_SECONDS, MAX_SESSIONS
    from initlab.playground.session import MAX_STEP, REST_STEP_SECONDS, SECONDS_PER_WORK
    return {"max_layers": limits_of.MAX_LAYERS, "max_width": limits_of.MAX_WIDTH,
            "max_samples": limits_of.MAX_SAMPLES, "min_samples": limits_of.MIN_SAMPLES,
            "max_seeds": limits_of.MAX_SEEDS, "max_schemes": limits_of.MAX_SCHEMES,
            "max_work": limits_of.MAX_WORK, "max_speed": limits_of.MAX_SPEED, "max_step": MAX_STEP,
            "rest_step_seconds": REST_STEP_SECONDS, "seconds_per_work": SECONDS_PER_WORK,
            "max_lr": limits_of.MAX_LR,
            "max_noise": limits_of.MAX_NOISE, "max_sessions": MAX_SESSIONS, "idle_seconds": IDLE_SECONDS,
            "datasets": list(limits_of.DATASETS), "noiseless_datasets": list(limits_of.NOISELESS),
            "activations": list(ACTIVATIONS), "optimizers": list(OPTIMIZERS),
            "schemes": [{"name": name, "spec": name, "aliases": list(s.aliases), "formula": s.formula,
                         "parameters": scheme_parameters(s)} for name, s in SCHEMES.items()],
            "defaults": limits_of.Settings().model_dump(mode="json")}
