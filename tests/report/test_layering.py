"""Data flows spec -> plan -> run -> store -> report: the report layer reads records and never imports
the code that made them (experiments.compare, the sweep store); experiments never import the report
layer. Checked on every import statement, including those inside functions."""

import ast
from pathlib import Path

import initlab

SOURCE = Path(initlab.__file__).parent


def imported_modules(folder: Path) -> dict[str, set[str]]:
    """file -> every module named by an import statement in it (absolute names)."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
        found[str(path.relative_to(SOURCE))] = names
    return found


def test_report_imports_neither_compare_nor_the_sweep_store():
    forbidden = ("initlab.experiments.compare", "initlab.experiments.sweep", "initlab.experiments.run_folder")
    bad = {path: sorted(n for n in names if n.startswith(forbidden) or n in ("initlab.experiments.CompareResult",))
           for path, names in imported_modules(SOURCE / "report").items()}
    assert {path: names for path, names in bad.items() if names} == {}


def test_experiments_never_import_the_report_layer():
    bad = {path: sorted(n for n in names if n.startswith("initlab.report"))
           for path, names in imported_modules(SOURCE / "experiments").items()}
    assert {path: names for path, names in bad.items() if names} == {}


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    (tmp_path / "m.py").write_text("def f():\n    from initlab.report.folder import write_compare_figures\n")
    global SOURCE
    saved, SOURCE = SOURCE, tmp_path
    try:
        assert "initlab.report.folder" in imported_modules(tmp_path)["m.py"]
    finally:
        SOURCE = saved
