"""The `initlab train` / `initlab compare` command that reproduces a playground setting.

One scheme and one seed give `initlab train`; anything else `initlab compare` with one `--init` per
scheme. Every setting is written out (not left to the commands' defaults, which differ between
train and compare), values quoted for a POSIX shell.

>>> from initlab.playground.settings import Settings
>>> words = command(Settings(n_seeds=1, init="normal(std=10)"), 200).split(" --")
>>> words[:2], words[5:]
(['initlab train', 'data circles'], ["init 'normal(std=10)'", 'bias-init zeros', 'optimizer gd', 'lr 0.01', 'seed 0', 'iterations 200'])
>>> command(Settings(compare=("zeros",), seed=3), 0).split(" --")[5:]
['init he_normal', 'init zeros', 'bias-init zeros', 'optimizer gd', 'lr 0.01', 'seeds 5', 'seed 3']
"""

from __future__ import annotations

import shlex


def command(settings, iterations: int) -> str:
    """The command line for `settings` (a `Settings`) trained `iterations` times (left out at 0: then it
    only names the setting, and would train the commands' default iterations; a state at iteration 0
    gives no command)."""
    s = settings
    single = len(s.inits) == 1 and s.n_seeds == 1
    words = ["initlab", "train" if single else "compare", "--data", s.dataset]
    if s.noise is not None:
        words += ["--noise", repr(s.noise)]
    words += ["--n-samples", str(s.n_samples), "--hidden", ",".join(map(str, s.hidden)),
              "--activation", s.activation]
    for init in s.inits:
        words += ["--init", init]
    words += ["--bias-init", s.bias_init, "--optimizer", s.optimizer, "--lr", repr(s.lr)]
    words += ["--seed", str(s.seed)] if single else ["--seeds", str(s.n_seeds), "--seed", str(s.seed)]
    if iterations:
        words += ["--iterations", str(iterations)]
    return shlex.join(words)
