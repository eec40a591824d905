"""torch stays optional: initlab and its NumPy parts never import it; only initlab.torch does."""

import subprocess
import sys

import pytest


@pytest.mark.slow
def test_importing_initlab_does_not_import_torch():
    code = ("import sys, initlab, initlab.init, initlab.theory, initlab.nn; "
            "assert 'torch' not in sys.modules, 'torch imported'; "
            "import initlab.torch; assert 'torch' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
