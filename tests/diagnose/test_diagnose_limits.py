"""A torch factory that cannot build its model, or builds one too large to diagnose, is one line naming
--torch and the error, exit code 2, and no output folder."""

import textwrap

import pytest

pytest.importorskip("torch")

FACTORIES = textwrap.dedent("""
    import torch

    def unallocatable():
        return torch.nn.Sequential(torch.nn.Linear(10**6, 10**6))  # 4 TB of float32 weights

    def out_of_memory():
        raise MemoryError

    def moderate():
        return torch.nn.Sequential(torch.nn.Linear(1000, 1000), torch.nn.ReLU(), torch.nn.Linear(1000, 2))
""")


@pytest.fixture
def factories(tmp_path, monkeypatch):
    (tmp_path / "big_models.py").write_text(FACTORIES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(("argv", "expected"), [
    (["--torch", "big_models:unallocatable", "--input-shape", "1000000"],
     "error: --torch: factory 'big_models:unallocatable' raised RuntimeError: "),
    (["--torch", "big_models:out_of_memory", "--input-shape", "10"],
     "error: --torch: factory 'big_models:out_of_memory' raised MemoryError"),
    (["--torch", "big_models:moderate", "--input-shape", "1000", "--max-memory", "20MB"],
     "error: --torch: this run needs about 28.1 MB (estimate), above the memory budget of 20 MB (--max-memory, "
     "max_memory); 'big_models:moderate' builds 1,003,002 parameters"),
])
def test_a_model_that_cannot_be_built_or_diagnosed_is_one_line_naming_torch(cli, factories, argv, expected):
    result = cli("diagnose", *argv, "--out", factories / "runs" / "out")
    assert result.code == 2, result.err
    assert result.err.startswith(expected), result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert "can't allocate memory" in result.err or "unallocatable" not in argv[1]
    assert not (factories / "runs").exists()
