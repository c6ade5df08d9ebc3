"""What every command shares: printing diagnostics, exit codes, and never a traceback.

Exit codes: 0 fine, 1 problems in the user's files, 2 usage or internal error, 130 interrupted
(Ctrl-C). `guarded` is the one place that turns an exception into an exit code, and `emit` the
one way commands print a line.
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


#: Printed under an internal error: whose fault it is and how to see more.
INTERNAL_ERROR_HINT = ("    hint: this is a bug in mastery, not in your files; please report it "
                       "with the command you ran (MASTERY_DEBUG=1 shows the details)")
#: The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def guarded(command: F) -> F:
    """Run a command under the one error guard every command shares.

    MasteryError: its diagnostics (on stdout as JSON with ``--format json``, else on stderr),
    exit 1 for problems in the user's files, 2 for misuse. Ctrl-C: exit 130, nothing printed.
    Anything else is a bug: one line and a hint, exit 2; MASTERY_DEBUG=1 adds the traceback.
    typer's own exits and usage errors pass through (they print themselves).
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MasteryError as exc:
            fmt = kwargs.get("output_format") or kwargs.get("fmt")
            _print_failure(exc, fmt if fmt in FORMATS else default_format())
            raise typer.Exit(2 if exc.usage else 1) from None
        except KeyboardInterrupt:
            raise typer.Exit(INTERRUPTED) from None
        except (typer.Exit, typer.Abort, SystemExit, typer.TyperException):
            raise
        except Exception as exc:  # the promise: no user ever reads a traceback
            if os.environ.get("MASTERY_DEBUG"):
                traceback.print_exc()
            emit(f"mastery: internal error: {type(exc).__name__}: {printable(str(exc))}\n"
                 f"{INTERNAL_ERROR_HINT}", err=True)
            raise typer.Exit(2) from None

    wrapper.guarded = True  # type: ignore[attr-defined]  # tests check every command has it
    return wrapper  # type: ignore[return-value]


def _print_failure(exc: MasteryError, fmt: str) -> None:
    """Why a command stopped: JSON on stdout (a machine reads it), else lines on stderr."""
    summary = Summary.of(exc.diagnostics, checked=0)
    if fmt == "json":
        print_diagnostics(exc.diagnostics, summary, "json")
        return
    # Without the summary line: "0 files checked" would say nothing about a command that stopped.
    for line in render(sorted_diagnostics(exc.diagnostics), summary, fmt).splitlines()[:-1]:
        emit(line, err=True)
