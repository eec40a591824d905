"""Fuzzing the `initlab` command: whatever the input, the answer is a result (exit 0) or one line
on stderr with exit code 2 — never a traceback, a hang, or a file left behind by a refused command.

Hypothesis generates spec strings, option values and file contents (200 examples per test and run;
`--hypothesis-seed` reproduces a run). Valid inputs that would start real work are kept small by
the fixed options around the fuzzed one (few iterations, few samples).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initlab.cli import main

FUZZ = settings(max_examples=200, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SCHEME_NAMES = ["zeros", "normal", "uniform", "he_normal", "xavier_uniform", "orthogonal", "variance_scaling",
                "truncated_normal", "epsilon_uniform", "critical", "constant", "identity"]
KEYS = ["std", "mean", "limit", "low", "high", "gain", "scale", "mode", "distribution", "value", "a", "b",
        "epsilon", "nonlinearity", "sigma_b2", "activation"]
EDGE_NUMBERS = ["0", "-1", "1", "0.5", "nan", "inf", "-inf", "1e308", "1e-320", "99999999999999999999999",
                "-99999999999999999999", "2**63", "1e9", "", " ", "abc", "0x10", "1_000", "١", "3.", ".5e1"]
EDGE_TEXT = ["", " ", ",", "x", "10,-5", "0", "1x0", "20000x20000", "100000000", "1,,2", "(", ")", "'", '"',
             "\\", "\x00", "é", "🙂", "--json", "-h", "a" * 300, "circles", "moons", "gaussian:0",
             "gaussian:99999999999", "blobs:0", "spirals:1", "digits:99", "file:/nonexistent.npz",
             "images:/", "file:/dev/null", "tokens:5"]

numbers = st.one_of(st.sampled_from(EDGE_NUMBERS), st.integers(-10**30, 10**30).map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr))
texts = st.one_of(st.sampled_from(EDGE_TEXT), st.text(max_size=40))


def affordable(limit: int):
    """`numbers` without the integers in (limit, 10**9]: counts the CLI rightly accepts but that would train
    for minutes (it once drew --iterations 226309500). Refused values (> 10**9) and bad text stay in."""
    def small_or_refused(text: str) -> bool:
        try:
            n = int(text)
        except ValueError:
            return True
        return n <= limit or n > 10**9
    return numbers.filter(small_or_refused)


@st.composite
def spec_strings(draw):
    """Scheme specs: well-formed ones with bad values, near-miss names and raw text."""
    name = draw(st.one_of(st.sampled_from(SCHEME_NAMES), texts))
    if draw(st.booleans()):
        return name
    pairs = draw(st.lists(st.tuples(st.sampled_from(KEYS), st.one_of(numbers, texts)), max_size=3))
    return f"{name}({', '.join(f'{k}={v}' for k, v in pairs)})" + draw(st.sampled_from(["", ")", "(", ",x"]))


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def check(argv: list[str], folder: Path | None = None) -> None:
    """The contract: exit 0, or exit 2 with one line on stderr and (for `folder`) nothing written."""
    code, out, err = run(argv)
    assert "Traceback" not in err, (argv, err)
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        assert len(err.strip().splitlines()) == 1, (argv, err)
        assert out == "", (argv, out)
        if folder is not None:
            assert not folder.exists() or not any(folder.iterdir()), (argv, sorted(folder.iterdir()))


pytestmark = pytest.mark.slow  # about a minute: 1,200 generated command lines


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a default output folder (runs/...) lands here, not in the repo
    monkeypatch.setenv("COLUMNS", "100")


@FUZZ
@given(spec=spec_strings(), shape=st.one_of(texts, st.lists(  # small dims, or absurd ones (refused up front)
    st.one_of(st.integers(-3, 40), st.sampled_from([10**7, 2**63, 10**30])), max_size=34).map(
    lambda dims: ",".join(map(str, dims)))), dtype=st.sampled_from(["float32", "float64", "float16", "int8", "x", ""]))
def test_sample_answers_any_spec_and_shape_in_one_line(spec, shape, dtype):
    check(["sample", spec, "--shape", shape, "--dtype", dtype])


OPTIONS = {"--n-samples": affordable(100_000), "--hidden": texts, "--activation": texts, "--init": spec_strings(),
           "--bias-init": spec_strings(), "--lr": numbers, "--iterations": affordable(1000), "--seeds": affordable(64),
           "--data": texts, "--test-fraction": numbers, "--noise": numbers, "--image-size": numbers,
           "--batch-size": numbers, "--optimizer": texts, "--dtype": texts, "--output": texts,
           "--record-every": numbers, "--data-seed": numbers, "--preset": texts, "--test-data": texts}


@FUZZ
@given(option=st.sampled_from(sorted(OPTIONS)), data=st.data())
def test_compare_answers_any_single_option_value_in_one_line(option, data):
    value = data.draw(OPTIONS[option])
    out = Path(tempfile.mkdtemp()) / "run"
    fixed = {"--iterations": "5", "--seeds": "1", "--n-samples": "40", "--hidden": "4"}
    fixed.pop(option, None)
    argv = ["compare", *(item for pair in fixed.items() for item in pair), option, value, "--no-figures",
            "--out", str(out)]
    check(argv, out)


@FUZZ
@given(option=st.sampled_from(["--hidden", "--activation", "--init", "--n-samples", "--data", "--seed",
                               "--bias-init", "--input-shape"]), data=st.data())
def test_diagnose_answers_any_single_option_value_in_one_line(option, data):
    value = data.draw({"--hidden": texts, "--activation": texts, "--init": spec_strings(),
                       "--n-samples": affordable(100_000), "--data": texts, "--seed": numbers, "--bias-init": spec_strings(),
                       "--input-shape": texts}[option])
    out = Path(tempfile.mkdtemp()) / "diag"
    fixed = {"--hidden": "8x3", "--n-samples": "32"}
    fixed.pop(option, None)
    check(["diagnose", *(item for pair in fixed.items() for item in pair), option, value, "--no-figures",
           "--out", str(out)], out)


@FUZZ
@given(activation=texts, sigma_b2=numbers, sigma_w2=numbers)
def test_theory_answers_any_numbers_in_one_line(activation, sigma_b2, sigma_w2):
    check(["theory", "--activation", activation, "--sigma-b2", sigma_b2, "--sigma-w2", sigma_w2])
    check(["theory", "--activation", "tanh", "--sigma-b2", sigma_b2, "--sigma-w2", sigma_w2])


toml_values = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=False), st.text(max_size=20),
                        st.lists(st.integers(-5, 50), max_size=4), st.booleans())


@st.composite
def sweep_files(draw):
    """TOML documents: plausible keys with odd values, huge grids, or raw text."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.text(max_size=200))
    seeds = draw(st.sampled_from(["1", "0", "-3", "1000000000", "2.5", '"x"']))
    iterations = draw(st.sampled_from(["5", "0", "10000000000000", '"5"']))
    lines = [f"seeds = {seeds}", "[train]", f"iterations = {iterations}"]
    lines += ["[model]", f"hidden = {json.dumps(draw(toml_values))}"]
    axis = draw(st.sampled_from(["model.init", "train.lr", "model.hidden", "data", "nonsense", "seeds"]))
    values = draw(st.lists(st.sampled_from(['"he_normal"', '"zeros"', "0.1", "[4]", '"circles"', "1e400", "[]"]),
                           max_size=3))
    lines += ["[grid]", f'"{axis}" = [{", ".join(values)}]']
    return "\n".join(lines) + "\n"


@FUZZ
@given(text=sweep_files())
def test_sweep_plan_answers_any_file_in_one_line(text):
    folder = Path(tempfile.mkdtemp())
    (folder / "sweep.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
    check(["sweep", "plan", str(folder / "sweep.toml")])


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))),
       suffix=st.sampled_from([".npz", ".csv", ".db", ".json"]))
def test_data_stores_and_results_answer_any_file_contents_in_one_line(content, suffix):
    folder = Path(tempfile.mkdtemp())
    path = folder / f"input{suffix}"
    path.write_bytes(content)
    before = path.read_bytes()
    if suffix in (".npz", ".csv"):
        check(["compare", "--data", f"file:{path}", "--iterations", "3", "--seeds", "1", "--no-figures",
               "--out", str(folder / "run")], folder / "run")
    elif suffix == ".db":
        check(["sweep", "status", "--store", str(path)])
        check(["sweep", "export", "--store", str(path), "--format", "json"])
    else:
        check(["report", "--results", str(path), "--out", str(folder / "out" / "report.html")], folder / "out")
    assert path.read_bytes() == before  # a refused input file is never modified
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith("input")) == [path.name]  # no -wal/-shm
