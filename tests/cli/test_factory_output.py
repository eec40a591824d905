"""What a user's factory module prints (at import and while it builds the model) goes to stderr, so
every command's --json output is one JSON document on stdout (initlab.diagnose.sources.load_factory)."""

import json
import sys
import textwrap

import pytest

pytest.importorskip("torch")

CHATTY = textwrap.dedent("""
    from torch import nn
    print("importing chatty_models")

    def build():
        print("building...")
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
""")


@pytest.mark.parametrize("argv", [("apply", "--init", "he_normal"), ("audit",),
                                  ("diagnose", "--input-shape", "4", "--n-samples", "32", "--no-figures")])
def test_what_the_factory_prints_goes_to_stderr_so_json_stays_one_document(cli, tmp_path, monkeypatch, argv):
    (tmp_path / "chatty_models.py").write_text(CHATTY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "chatty_models", raising=False)  # so that its import prints again
    code, out, err = cli(argv[0], "--torch", "chatty_models:build", *argv[1:], "--json")
    assert code == 0, err
    assert json.loads(out)  # stdout is the JSON document alone
    assert "importing chatty_models" in err and "building..." in err
