"""Errors name the flag the user typed: the library's `ArgumentError("n_samples", ...)` becomes
`--n-samples: ...` for the command that raised it."""

from __future__ import annotations

import functools
import typing

import typer

from initlab._errors import ArgumentError, renamed


def flag_names(command) -> dict[str, str]:
    """{name: '--flag'} for every option of a Typer command function (its declared name, e.g.
    `--json` for `as_json`, else `--` + the parameter with dashes), under both the parameter's name
    and the flag's own (`format` for `--format`). Positional arguments are left out:
    the library's own name for them reads better than a metavar."""
    names = {}
    for name, hint in typing.get_type_hints(command, include_extras=True).items():
        info = next((m for m in getattr(hint, "__metadata__", ()) if isinstance(m, typer.models.ParameterInfo)), None)
        if isinstance(info, typer.models.ArgumentInfo) or name == "return":
            continue
        # In Annotated[..., typer.Option("--format")] Typer keeps the first declaration in `default`.
        candidates = (getattr(info, "default", None), *(getattr(info, "param_decls", None) or ()))
        declared = [d for d in candidates if isinstance(d, str) and d.startswith("--")]
        flag = declared[0].split("/")[0] if declared else "--" + name.replace("_", "-")
        names[name] = names[flag[2:].replace("-", "_")] = flag  # export_format and format -> --format
    return names


def names_flags(**library_names: str):
    """Decorate a command so that an ArgumentError about one of its options names the flag.
    `library_names` adds the library's names for them: `names_flags(inits="--init")`."""
    def decorate(command):
        @functools.wraps(command)
        def wrapped(*args, **kwargs):
            try:
                return command(*args, **kwargs)
            except ArgumentError as error:
                raise renamed(error, {**flag_names(command), **library_names}) from None
        return wrapped
    return decorate
