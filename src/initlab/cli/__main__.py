"""`python -m initlab.cli ...` runs the `initlab` command."""

import sys

from initlab.cli.main import main

sys.exit(main())
