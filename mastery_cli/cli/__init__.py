"""The `mastery` command line: parsing options and printing, nothing else.

One definition: the typer application in `application.py`, for every command. Command modules
import the library inside their functions, so `mastery validate` never pays for pandas, jinja2
or the grading engine. Every command runs under the one error guard, `common.guarded`.

The modules that define commands (application, grade, validate, report, interop, calibrate)
do not use ``from __future__ import annotations``: typer reads every command's signature on
each run, twice, and string annotations make it evaluate each ``Annotated[..., typer.Option()]``
again (about 20 ms of every command's start; `tests/test_cli_startup.py`).
"""

from __future__ import annotations

from typing import Any


def main() -> None:
    """The console script: the typer application, exit code 130 when interrupted.

    Ctrl-C inside a command is the guard's to handle; this catches the one that comes while
    the command line framework itself is still importing.
    """
    try:
        from mastery_cli.cli.application import app

        app()
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def __getattr__(name: str) -> Any:
    # `from mastery_cli.cli import app` keeps working; typer loads only when it is asked for.
    if name == "app":
        from mastery_cli.cli.application import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
