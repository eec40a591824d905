"""A sweep that lasts a few seconds, for tests that run `sweep run` as a child process and stop it
part-way, and a count of the runs its store holds that works while the child writes."""

import sqlite3

# 12 points x 2 seeds; each point takes a fraction of a second, so the sweep lasts a few seconds.
SLOW_SWEEP = """
data = "circles"
n_samples = 100
seeds = 2
[model]
activation = "tanh"
[train]
lr = 0.1
iterations = {iterations}
[grid]
"model.init" = ["he_normal", "xavier_normal", "normal(std=1)"]
"model.hidden" = ["8x2", "8x3", "12x2", "12x3"]
"""


def stored_runs(path) -> int:
    """Runs in the store at `path` (read-only); 0 before the store or its tables exist."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return connection.execute("SELECT count(*) FROM runs").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:
        return 0
