"""The memory budget and the estimates checked against it (initlab.memory, initlab.experiments.footprint)."""

import json
import os
import subprocess
import sys

import pytest

from initlab import memory
from initlab.experiments import CompareConfig, run_compare


@pytest.mark.parametrize(("text", "size"), [("12GB", 12 * 10**9), ("500 MB", 5 * 10**8), ("1.5GiB", 3 * 2**29),
                                            ("2048", 2048), (1e9, 10**9), ("3k", 3000)])
def test_sizes_parse_in_powers_of_1000_or_1024_with_i(text, size):
    assert memory.parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "12 parsecs", "-1GB", "0", "", "1e999"])
def test_a_size_that_is_not_one_is_refused_naming_max_memory(text):
    with pytest.raises(ValueError, match=r"^max_memory: expected a (positive )?size such as '12GB'"):
        memory.parse_size(text)


def test_the_default_budget_is_half_the_physical_ram():
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert memory.budget() == int(ram / 2) and memory.budget("3GB") == 3 * 10**9


def test_check_message_names_argument_estimate_budget_and_advice():
    with pytest.raises(ValueError) as error:
        memory.check("hidden", 31.2e9, "12GB", "use fewer or narrower layers")
    assert str(error.value) == ("hidden: this run needs about 31.2 GB (estimate), above the memory budget of 12 GB "
                                "(--max-memory, max_memory); use fewer or narrower layers")
    memory.check("hidden", 11.9e9, "12GB")  # below: no error


@pytest.mark.parametrize(("changes", "argument"), [
    ({"hidden": (20000, 20000, 20000)}, "hidden"),
    ({"seeds": 100_000, "hidden": (1000,)}, "seeds"),
    ({"n_samples": 10**9}, "n_samples"),
    ({"iterations": 10**9, "record_every": 1}, "record_every"),
])
def test_run_compare_refuses_before_building_any_network(changes, argument):
    runs = []
    with pytest.raises(ValueError, match=rf"^{argument}: this run needs about .* \(estimate\), above the memory budget"):
        run_compare(CompareConfig(**changes), on_run=runs.append, max_memory="8GB")
    assert runs == []


MEASURE = """
import json, resource, sys
from initlab.experiments import CompareConfig, footprint, load_dataset, run_compare
from initlab.experiments.compare import output_layer


def status(field):  # kB fields of /proc/self/status: VmRSS now, VmHWM the peak since the last reset
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(field + ":"))


config = CompareConfig(**json.loads(sys.argv[1]))
run_compare(config.replace(hidden=(4,), seeds=1, iterations=2, n_samples=40))  # imports, kernel compilation
try:  # reset the peak, so a compilation in the warm-up above (no numba cache yet) is not counted
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    peak = lambda: status("VmHWM")
except OSError:
    peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before = status("VmRSS")
data = load_dataset(config)
sizes = [data.n_features, *config.hidden, output_layer(config, data.y_train)[1]]
estimate = footprint.needed(config, sizes, len(data.X_train), len(data.X_test), len(config.inits) * config.seeds)
run_compare(config, data)
print(json.dumps({"measured": peak() - before, "estimate": estimate}))
"""


@pytest.mark.slow  # two subprocesses that train a few hundred MB of networks
@pytest.mark.parametrize("config", [
    # full batch: the ensemble path (stacked parameters, per-thread activations, recorded costs)
    {"data": "gaussian:20", "n_samples": 400, "hidden": [1024, 1024], "inits": ["he_normal", "xavier_normal"],
     "seeds": 6, "iterations": 2, "record_every": 1},
    # minibatches: one network at a time, all networks built up front
    {"data": "gaussian:20", "n_samples": 400, "hidden": [1024, 1024], "inits": ["he_normal"], "seeds": 12,
     "iterations": 4, "batch_size": 100},
])
def test_estimate_is_within_a_factor_2_of_the_measured_peak_rss_increase(config):
    done = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(config)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    numbers = json.loads(done.stdout)
    assert numbers["measured"] > 100e6  # the run dominates allocator noise and compilation
    assert 0.5 < numbers["estimate"] / numbers["measured"] < 2.0, numbers
