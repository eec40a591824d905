"""The work behind `initlab diagnose`: options -> model and batch -> diagnosis -> files.

`Options` holds what the user typed (None = not given); `run` validates it, builds the MLP or the
torch model, diagnoses it and adds to the recommendation the command that applies the fix.
`write_folder` writes diagnose.json, diagnose.png and report.html.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from initlab._checks import integer, seed as check_seed
from initlab._errors import ArgumentError, renamed
from initlab.options import parse_hidden, parse_int_list, parse_tokens

MLP_DEFAULTS = {"data": "circles", "hidden": "100x30", "activation": "relu", "init": "he_normal",
                "bias_init": "zeros"}
TORCH_INITS = ("auto", "lsuv")  # initlab.torch's data-free and data-driven inits, on top of every scheme
INPUT_DTYPES = ("float", "long")
N_SAMPLES = 256


@dataclass(frozen=True)
class Options:
    data: str | None = None
    hidden: str | None = None
    activation: str | None = None
    init: str | None = None
    bias_init: str | None = None
    torch_factory: str | None = None
    input_shape: str | None = None
    n_samples: int = N_SAMPLES
    standardize: bool = True
    seed: int = 0
    max_memory: str | int | None = None  # initlab.memory.budget: half the RAM by default
    input_dtype: str | None = None  # float (standard-normal inputs) or long (token ids; needs vocab, implied by it)
    vocab: int | None = None
    output: str | None = None  # key (or index) of the model's output the loss reads
    jacobian: bool = False  # also the singular values of d h(L) / d h(1) (an MLP only)

    @property
    def tokens(self) -> int | None:
        """The vocabulary when the torch model is fed token ids (--input-dtype long --vocab N, or --data
        tokens:N), else None."""
        return parse_tokens(self.data) or (self.vocab if self.input_dtype != "float" else None)

    def flags(self) -> list[tuple[str, object]]:
        """(flag, value) pairs that reproduce this run (defaults left out where the user left them out)."""
        if self.torch_factory is None:
            mlp = [("--" + key.replace("_", "-"), getattr(self, key) or default)
                   for key, default in MLP_DEFAULTS.items()]
            head = [(flag, None if flag == "--bias-init" and value == "zeros" else value) for flag, value in mlp]
        else:
            head = [("--torch", self.torch_factory), ("--input-shape", self.input_shape), ("--data", self.data),
                    ("--input-dtype", self.input_dtype), ("--vocab", self.vocab), ("--output", self.output),
                    ("--init", self.init), ("--bias-init", self.bias_init)]
        return head + [("--n-samples", None if self.n_samples == N_SAMPLES else self.n_samples),
                       ("--seed", self.seed or None), ("--no-standardize", not self.standardize),
                       ("--jacobian", self.jacobian)]


def _check(options: Options) -> None:
    integer("n_samples", options.n_samples, minimum=2)
    check_seed("seed", options.seed)
    if options.torch_factory is None:
        if options.jacobian:
            from initlab.diagnose.jacobian import EXAMPLES, check_cost
            check_cost(parse_hidden(options.hidden or MLP_DEFAULTS["hidden"]), min(EXAMPLES, options.n_samples))
        if options.input_shape is not None:
            raise ArgumentError("input_shape", "only used with --torch (an MLP takes its input size from --data)")
        for name in ("input_dtype", "vocab", "output"):
            if getattr(options, name) is not None:
                raise ArgumentError(name, "only used with --torch (it describes a PyTorch model's inputs or outputs)")
        if parse_tokens(options.data) is not None:
            raise ArgumentError("data", "tokens:VOCAB feeds token ids to a --torch model; an MLP needs features")
        if options.init in TORCH_INITS:
            raise ArgumentError("init", f"'{options.init}' is initlab.torch's and needs --torch "
                             "(for an MLP use a scheme such as he_normal)")
        return
    if options.jacobian:
        raise ArgumentError("jacobian", "is measured on an initlab MLP's chain of layers; a --torch model is not "
                            "supported yet")
    given = [name for name in ("hidden", "activation") if getattr(options, name) is not None]
    if given:
        flags = " and ".join("--" + name.replace("_", "-") for name in given)
        raise ArgumentError("torch", f"{flags} only shape an initlab MLP; a --torch model brings its own layers "
                         "(re-initialise it with --init)")
    _check_inputs(options)
    if options.bias_init is not None and (options.init is None or options.init in TORCH_INITS):
        raise ArgumentError("bias_init", f"with --torch it goes with a scheme in --init (auto and lsuv set the "
                         f"biases themselves), got --init {options.init}")


def _check_inputs(options: Options) -> None:
    """--input-dtype, --vocab and a tokens:VOCAB --data for a torch model."""
    if options.input_dtype is not None and options.input_dtype not in INPUT_DTYPES:
        raise ArgumentError("input_dtype", f"expected float or long, got '{options.input_dtype}'")
    if options.vocab is not None:
        integer("vocab", options.vocab, minimum=1)
    spec = parse_tokens(options.data)
    if spec is not None:
        if options.input_dtype == "float":
            raise ArgumentError("input_dtype", f"--data {options.data} gives token ids (long), not floats")
        if options.vocab is not None:
            raise ArgumentError("vocab", f"--data {options.data} already gives the vocabulary; drop --vocab")
        if options.input_shape is None:
            raise ArgumentError("input_shape", "give the sequence length, e.g. --input-shape 128, with "
                                f"--data {options.data}")
        return
    if options.input_dtype == "long" or (options.vocab is not None and options.input_dtype is None):
        if options.vocab is None:
            raise ArgumentError("vocab", "--input-dtype long draws token ids 0..N-1: give --vocab N "
                                "(or --data tokens:N)")
        if options.data is not None:
            raise ArgumentError("data", f"--input-dtype long draws token ids; '{options.data}' holds features "
                                "(use --data tokens:VOCAB or leave --data out)")
    elif options.vocab is not None:  # --input-dtype float
        raise ArgumentError("vocab", "draws token ids 0..vocab-1, which --input-dtype float contradicts")


def run(options: Options, detail: bool = False):
    """The `Diagnosis` of what `options` describe, its recommendation completed with the command
    (`detail`: with per-layer histograms and two-input correlations, `initlab.diagnose.doctor.diagnose`)."""
    _check(options)  # before the heavy imports below: a refused option answers at once
    from initlab.diagnose.doctor import diagnose, diagnose_torch, mlp_pass
    from initlab.diagnose.mlp_probe import describe_mlp
    from initlab.diagnose.present import with_fix
    from initlab.diagnose.sources import Seeds, initialise_torch, load_batch, load_factory, mlp_for, torch_batch
    seeds = Seeds.spawn(options.seed)
    shape = None if options.input_shape is None else parse_int_list(options.input_shape, "input_shape")
    if options.torch_factory is None:
        o = {key: getattr(options, key) or default for key, default in MLP_DEFAULTS.items()}
        widths = parse_hidden(o["hidden"])
        _check_memory(o["data"], options.n_samples, widths, None, options.max_memory)
        X, y = load_batch(o["data"], options.n_samples, seeds.batch, options.standardize)
        _check_memory(o["data"], options.n_samples, widths, X.shape[1], options.max_memory)
        net = mlp_for(X, y, widths, o["activation"], o["init"], o["bias_init"], seeds.weights)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is a finding (exploding), not noise
            captures, input_mean_square = mlp_pass(net, X, y)  # one pass: the diagnosis and the Jacobian read it
            result = diagnose(captures, input_mean_square, describe_mlp(net), detail=detail)
        if options.jacobian:
            from initlab.diagnose.jacobian import spectrum
            result = replace(result, jacobian=spectrum(captures, input_mean_square).to_json())
    else:
        _check_batch_memory(shape, options.n_samples, options.max_memory)
        model = load_factory(options.torch_factory, seeds.factory)
        _check_model_memory(model, options.torch_factory, options.max_memory)
        vocab = options.tokens
        data = None if parse_tokens(options.data) else options.data
        batch, target = torch_batch(shape, options.n_samples, seeds.batch, data, options.standardize, vocab)
        batch_option = "input_shape" if options.input_shape else "data"
        try:
            if options.init is not None:  # LSUV calibrates on its own batch, not the one diagnosed
                _renamed(initialise_torch, model, options.init, seeds.weights, lambda: torch_batch(
                    shape, options.n_samples, seeds.calibration, data, options.standardize, vocab)[0],
                    options.bias_init or "zeros", batch=batch_option, example=batch_option)
            result = _renamed(diagnose_torch, model, batch, target, options.output, detail, batch=batch_option,
                              target="data")
        except ArgumentError as error:
            raise _token_hint(error, model, batch) from None
    fix = with_fix(result.recommendation, options.flags(), torch_model=options.torch_factory is not None,
                   input_shape=shape, seed=options.seed, vocab=options.tokens)
    return replace(result, recommendation=fix)


def _check_memory(data: str, n_samples: int, widths, n_features: int | None, max_memory) -> None:
    """Refuse a diagnosis above the memory budget: before loading (generated data of known width)
    and once the input width is known (one recorded forward and backward pass)."""
    from initlab import memory
    from initlab.data.loader import generated_features
    n_features = n_features or generated_features(data)
    if n_features is None:
        return
    memory.check("n_samples", memory.data(n_samples, n_features), max_memory,
                 f"{n_samples:,} rows of {n_features} features; use a smaller batch")
    memory.check("hidden", memory.forward_backward([n_features, *widths, 1], n_samples), max_memory,
                 f"{len(widths)} hidden layers of up to {max(widths, default=0):,} units on {n_samples:,} rows; "
                 "use fewer or narrower layers or a smaller batch (n_samples)")


def _check_batch_memory(shape, n_samples: int, max_memory) -> None:
    """Refuse a standard-normal torch batch above the budget: the batch, LSUV's calibration batch and
    the float64 copy of each that the statistics read (24 bytes per input value)."""
    if shape is None:
        return
    from initlab import memory
    values = math.prod(shape)
    memory.check("input_shape" if values >= n_samples else "n_samples", 24.0 * n_samples * values, max_memory,
                 f"{n_samples:,} samples of shape {list(shape)}; use a smaller input or batch")


def _check_model_memory(model, factory: str, max_memory) -> None:
    """Refuse a torch model whose diagnosis would not fit: its parameters, their gradients and the
    float64 copies of both that the statistics read (24 bytes per float32 parameter beyond its own)."""
    from initlab import memory
    count = sum(p.numel() for p in model.parameters())
    memory.check("torch", count * 28.0, max_memory, f"'{factory}' builds {count:,} parameters; "
                 "diagnose a smaller model (fewer or narrower layers)")


def _token_hint(error: ArgumentError, model, batch) -> ArgumentError:
    """`error` with "(a token model? give --vocab N)" appended when the model rejected a float batch and
    its first weight-bearing module is an ``nn.Embedding`` (torch's message, "Expected tensor for
    argument #1 'indices' to have one of the following scalar types: Long, Int", does not say so)."""
    import torch

    from initlab.torch.discover import weight_bearing
    from initlab.torch.inputs import first_tensor
    if "the model rejected a batch" not in error.detail or not first_tensor(batch).is_floating_point():
        return error
    first = next((m for m in model.modules() if weight_bearing(m)), None)
    if not isinstance(first, torch.nn.Embedding):
        return error
    return ArgumentError(error.argument, f"{error.detail} (a token model? give --vocab N)")


def _renamed(function, *args, **names):
    """Call `function` on `args`; a ValueError about one of its arguments is re-worded to name the user's
    option instead (`names` maps argument -> option): 'batch: ...' -> 'input_shape: ...'."""
    try:
        return function(*args)
    except ValueError as error:
        raise renamed(error, names) from None


def write_folder(result, folder: Path, figures: bool = True, command: str | None = None,
                 label: str = "", seed: int = 0) -> list[str]:
    """Write diagnose.json (and diagnose.png, report.html; histograms.png and layers.png for a diagnosis with
    distributions, titled with the scheme `label` and `seed`; jacobian.png) into `folder`; returns the names."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "diagnose.json").write_text(json.dumps(result.to_json(), indent=1, allow_nan=False) + "\n")
    if not figures:
        for stale in ("diagnose.png", "report.html", "jacobian.png", "histograms.png", "layers.png"):  # an earlier run's, which would contradict the json
            (folder / stale).unlink(missing_ok=True)
        return ["diagnose.json"]
    from initlab.diagnose.figure import diagnose_figure
    from initlab.report.diagnosis import write_diagnosis_report
    figure = diagnose_figure(result, folder / "diagnose.png")
    write_diagnosis_report(result, folder / "report.html", command=command, figure=figure)
    written = ["diagnose.json", "diagnose.png", "report.html"]
    if result.distributions is not None:  # --histograms: a study of one run draws the same figures
        from initlab.diagnose.study import Run, Study
        from initlab.diagnose.study_output import write_figures
        written += write_figures(Study([Run(label, seed, result)]), folder)
    if result.jacobian is not None:
        from initlab.diagnose.jacobian_figure import jacobian_figure
        jacobian_figure(result.jacobian, folder / "jacobian.png")
        written.append("jacobian.png")
    for stale in {"histograms.png", "layers.png", "jacobian.png"} - set(written):  # an earlier run's
        (folder / stale).unlink(missing_ok=True)
    return written
