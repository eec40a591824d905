"""`initlab report --results` of a results.json holding NaN or infinity (which initlab never writes: a
missing number is null) is refused in one line naming the file and the field, and writes no page."""

import json

import pytest

from initlab.cli import main
from initlab.experiments import CompareConfig, run_compare
from initlab.report.sources import runs_from_results


@pytest.fixture(scope="module")
def document():
    result = run_compare(CompareConfig(data="moons", n_samples=60, hidden=(3,), inits=("zeros", "he_normal"),
                                       seeds=2, iterations=20))
    return result.to_json()


@pytest.mark.parametrize("where, value, shown", [
    (("runs", 1, "final_cost"), float("nan"), "NaN at runs[1].final_cost"),
    (("runs", 3, "train_accuracy"), float("inf"), "Infinity at runs[3].train_accuracy"),
    (("config", "lr"), float("-inf"), "-Infinity at config.lr"),
])
def test_non_finite_results_are_refused_naming_the_file_and_field(capsys, tmp_path, document, where, value, shown):
    edited = json.loads(json.dumps(document))
    target = edited
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    path = tmp_path / "results.json"
    path.write_text(json.dumps(edited))  # Python writes NaN and Infinity as bare words, as other tools do
    out = tmp_path / "report.html"
    code = main(["report", "--results", str(path), "--out", str(out)])
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert captured.err == (f"error: --results: {shown} (initlab writes a missing number as null; a result with NaN "
                            f"or infinity was not written by it), got '{path}'\n")
    assert not out.exists()
    with pytest.raises(ValueError) as error:
        runs_from_results(path)
    assert str(error.value).startswith(f"results: {shown} (")


def test_the_same_document_without_them_is_accepted(tmp_path, document):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document, allow_nan=False))
    runs, title = runs_from_results(path)
    assert len(runs) == 4 and title == document["title"] and title.startswith("moons: 45 train / 15 test")
