"""The README cannot drift: its scheme table matches the registry, its Python examples print what they say."""

from pathlib import Path

import pytest

from initlab.init import SCHEMES

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_every_registered_scheme_has_a_readme_row_with_its_parameters_and_aliases():
    rows = {line.split("|")[1].strip(" `"): line for line in README.splitlines() if line.startswith("| `")}
    for scheme in SCHEMES.values():
        assert scheme.name in rows, scheme.name
        cells = [cell.strip() for cell in rows[scheme.name].split("|")[1:-1]]
        assert cells[1] == ", ".join(f"`{a}`" for a in scheme.aliases), scheme.name
        assert cells[2] == ", ".join(p.name for p in scheme.parameters), scheme.name


@pytest.mark.slow
def test_python_examples_print_what_their_comments_say(capsys, monkeypatch):
    # Blocks whose print(...) lines end in "# <expected output>" are run from the repo root (they import
    # examples.torch_models) and must print exactly that.
    import re
    import sys
    root = Path(__file__).parents[1]
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    blocks = [b for b in re.findall(r"```python\n(.*?)```", README, flags=re.S) if re.search(r"print\(.*\)\s+# ", b)]
    assert len(blocks) >= 2
    for block in blocks:
        expected = [line.split("# ", 1)[1] for line in block.splitlines() if line.startswith("print(")]
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
        assert capsys.readouterr().out.splitlines() == expected
        sys.modules.pop("examples.torch_models", None)
