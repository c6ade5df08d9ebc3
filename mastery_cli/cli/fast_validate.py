"""What `mastery validate` does once its options are known, and a start-up fast path for it.

`mastery validate` runs in editors, pre-commit hooks and CI on every save or push, so its start-up
time matters more than any other command's. Importing typer (and the pydantic it uses to convert
options) costs more than validating a small file, so ``fast_main`` reads the few options validate
has straight from ``argv`` and runs without them. Anything it does not recognise (``--help``, an
unknown or malformed option, a bad ``--format``) makes it return None, and the caller hands the
command line to typer, which owns help texts and usage errors. Both paths print through
``run_validate``, so their output is the same byte for byte.

No typer or rich here: this module is imported before the CLI framework.
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from mastery_cli.diagnostics import (
    FORMATS,
    MasteryError,
    Summary,
    default_format,
    exit_code,
    printable,
    render,
    sorted_diagnostics,
)

NO_FILES_MESSAGE = (
    "mastery: no mastery files found (YAML files with 'kind: framework', 'rubric' or 'policy')"
)
INTERNAL_ERROR_HINT = (
    "    hint: this is a bug in mastery, not in your files; please report it with the command "
    "you ran (MASTERY_DEBUG=1 shows the details)"
)


def _write(text: str, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text if text.endswith("\n") else text + "\n")
    stream.flush()


def run_validate(paths: Sequence[Path], fmt: str, *, strict: bool, verbose: bool) -> int:
    """Validate ``paths``, print the report in ``fmt`` and return the exit code."""
    from mastery_cli.validation import validate_paths

    result = validate_paths(list(paths) or [Path(".")])
    summary = Summary.of(result.diagnostics, result.files_checked)
    if verbose:
        summary.extra["skipped"] = [{"path": p, "reason": r} for p, r in result.skipped]
        if fmt != "json":
            for path, reason in result.skipped:
                _write(printable(f"skipped {path}: {reason}"), err=True)
    _write(render(sorted_diagnostics(result.diagnostics), summary, fmt))
    if result.files_checked == 0 and not result.diagnostics:
        _write(NO_FILES_MESSAGE, err=True)
    return exit_code(result.diagnostics, strict)


def report_failure(exc: BaseException, fmt: str) -> int:
    """Print why a command stopped and return its exit code (1 files, 2 usage or internal)."""
    if isinstance(exc, MasteryError):
        summary = Summary.of(exc.diagnostics, checked=0)
        if fmt == "json":
            _write(render(sorted_diagnostics(exc.diagnostics), summary, "json"))
        else:
            lines = render(sorted_diagnostics(exc.diagnostics), summary, fmt).splitlines()
            for line in lines[:-1]:
                _write(line, err=True)
        return 2 if exc.usage else 1
    if os.environ.get("MASTERY_DEBUG"):
        traceback.print_exception(exc)
    _write(f"mastery: internal error: {type(exc).__name__}: {printable(str(exc))}\n"
           f"{INTERNAL_ERROR_HINT}",
           err=True)
    return 2


def parse_arguments(argv: Sequence[str]) -> tuple[list[Path], str, bool, bool] | None:
    """(paths, format, strict, verbose) from validate's arguments, or None to let typer parse.

    Mirrors click's grammar for these options: ``--format X``, ``--format=X``, ``-f X``,
    ``-fX``, flags anywhere, ``--`` ends the options.
    """
    paths: list[Path] = []
    fmt: str | None = None
    strict = verbose = False
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if token == "--":
            paths.extend(Path(t) for t in argv[index:])
            break
        if token == "--strict":
            strict = True
        elif token in ("--verbose", "-v"):
            verbose = True
        elif token in ("--format", "-f"):
            if index >= len(argv):
                return None
            fmt = argv[index]
            index += 1
        elif token.startswith("--format="):
            fmt = token.split("=", 1)[1]
        elif token.startswith("-f") and not token.startswith("--"):
            fmt = token[2:]
        elif token.startswith("-") or not token:
            return None  # an option validate does not have, or "-": typer explains
        else:
            paths.append(Path(token))
    fmt = fmt if fmt is not None else default_format()
    if fmt not in FORMATS:
        return None
    return paths, fmt, strict, verbose


def fast_main(argv: Sequence[str]) -> int | None:
    """Run ``mastery ARGV`` if it is a plain validate call; None when typer should handle it."""
    if not argv or argv[0] != "validate":
        return None
    parsed = parse_arguments(argv[1:])
    if parsed is None:
        return None
    paths, fmt, strict, verbose = parsed
    # A short-lived process: the cyclic collector would only re-walk every YAML node loaded
    # (a second per 20 MB) right before exit frees them anyway.
    gc.disable()
    try:
        return run_validate(paths, fmt, strict=strict, verbose=verbose)
    except KeyboardInterrupt:
        _write("\nAborted!", err=True)  # what click prints, so both paths behave alike
        return 1
    except Exception as exc:  # the promise: no user ever reads a traceback
        return report_failure(exc, fmt)
