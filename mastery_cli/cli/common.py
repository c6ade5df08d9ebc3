"""What every command shares: printing diagnostics, exit codes, and never a traceback.

Exit codes: 0 fine, 1 problems in the user's files, 2 usage or internal error.
Machine-readable output (diagnostics in any format) is written plainly to stdout, never through
rich, so CI logs and editors get exact lines; rich is only for human summaries and progress.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import typer

from mastery_cli.diagnostics import (
    FORMATS,
    Diagnostic,
    MasteryError,
    Summary,
    default_format,
    printable,
    render,
    sorted_diagnostics,
)

F = TypeVar("F", bound=Callable[..., Any])

FORMAT_HELP = "Diagnostics as text, json or github (the default under GitHub Actions)."


def resolve_format(value: str | None) -> str:
    fmt = value or default_format()
    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose one of: {', '.join(FORMATS)}", param_hint="--format")
    return fmt


def emit(text: str, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text if text.endswith("\n") else text + "\n")
    stream.flush()


def print_diagnostics(
    diagnostics: Sequence[Diagnostic], summary: Summary, fmt: str, *, err: bool = False
) -> None:
    emit(render(sorted_diagnostics(diagnostics), summary, fmt), err=err)


def guarded(command: F) -> F:
    """Turn MasteryError into diagnostics and exit 1 (2 for usage); anything else into exit 2.

    Set MASTERY_DEBUG=1 to see the traceback of an internal error.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MasteryError as exc:
            fmt = kwargs.get("output_format") or kwargs.get("fmt")
            fmt = fmt if fmt in FORMATS else default_format()
            summary = Summary.of(exc.diagnostics, checked=0)
            if fmt == "json":
                print_diagnostics(exc.diagnostics, summary, "json")
            else:
                for line in render(sorted_diagnostics(exc.diagnostics), summary, fmt).splitlines()[
                    :-1
                ]:
                    emit(line, err=True)
            raise typer.Exit(2 if exc.usage else 1) from None
        except (typer.Exit, typer.Abort, SystemExit, KeyboardInterrupt, typer.TyperException):
            raise  # typer's own exits and usage errors (a bad --format) print themselves
        except Exception as exc:  # the promise: no user ever reads a traceback
            if os.environ.get("MASTERY_DEBUG"):
                traceback.print_exc()
            emit(
                f"mastery: internal error: {type(exc).__name__}: {printable(str(exc))}\n"
                "    hint: this is a bug in mastery, not in your files; please report it with "
                "the command you ran (MASTERY_DEBUG=1 shows the details)",
                err=True,
            )
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]
