"""The README's scheme table is generated from the registry's own text, so it cannot drift."""

from pathlib import Path

from initlab.init import SCHEMES

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_every_registered_scheme_has_a_readme_row_with_its_parameters_and_aliases():
    rows = {line.split("|")[1].strip(" `"): line for line in README.splitlines() if line.startswith("| `")}
    for scheme in SCHEMES.values():
        assert scheme.name in rows, scheme.name
        cells = [cell.strip() for cell in rows[scheme.name].split("|")[1:-1]]
        assert cells[1] == ", ".join(f"`{a}`" for a in scheme.aliases), scheme.name
        assert cells[2] == ", ".join(p.name for p in scheme.parameters), scheme.name
