"""The `initlab` command (Typer). Thin: each module parses one command group's options, calls the
library and prints through `initlab.cli.output`; `initlab.cli.main` holds the root app and `main()`.
"""

from initlab.cli.main import app, main, run

__all__ = ["app", "main", "run"]
