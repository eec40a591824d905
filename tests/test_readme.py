"""The README and docs/*.md cannot drift: the scheme table matches the registry, Python examples print what they say."""

from pathlib import Path

import pytest

from initlab.init import SCHEMES

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SCHEMES_PAGE = (ROOT / "docs" / "schemes.md").read_text()


def test_every_registered_scheme_has_a_readme_row_with_its_parameters_and_aliases():
    rows = {line.split("|")[1].strip(" `"): line for line in SCHEMES_PAGE.splitlines() if line.startswith("| `")}
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
    blocks = [(page.name, b) for page in PAGES for b in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
              if re.search(r"print\(.*\)\s+# ", b)]
    assert len(blocks) >= 3
    for name, block in blocks:
        expected = [line.split("# ", 1)[1] for line in block.splitlines() if line.startswith("print(")]
        exec(compile(block, name, "exec"), {"__name__": "readme"})
        assert capsys.readouterr().out.splitlines() == expected
        sys.modules.pop("examples.torch_models", None)
