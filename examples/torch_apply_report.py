"""What `initlab.torch.initialise` does to each parameter of a small model with every kind of layer.

`examples.torch_models.tiny_tagger`: token embedding, start token, attention, LayerScale gamma, LSTM,
LayerNorms and a head tied to the embedding. Prints the result's table; the tied-parameter warning is
printed as one line.

Run: .venv/bin/python examples/torch_apply_report.py [SCHEME] [--recurrent SPEC] [--tied POLICY]
"""

from __future__ import annotations

import argparse
import warnings

from torch_models import tiny_tagger  # examples/ is on the path when this file runs as a script
from initlab.torch import initialise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scheme", nargs="?", default="he_normal")
    parser.add_argument("--recurrent", default=None)
    parser.add_argument("--embedding", default="keep")
    parser.add_argument("--tied", default="skip")
    args = parser.parse_args()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = initialise(tiny_tagger(), args.scheme, recurrent=args.recurrent, embedding=args.embedding,
                            tied=args.tied, seed=0)
    for warning in caught:
        print(f"{warning.category.__name__}: {warning.message}")
    print(result)


if __name__ == "__main__":
    main()
