"""A start-up fast path for `mastery grade`: its options read straight from ``argv``, no typer.

Importing typer (with click, rich and the pydantic it converts options with) takes about as long
as grading the example school, so ``fast_main`` parses grade's options itself, with click's
grammar, and calls `grade_run.run_grade` like the typer command does. Anything it does not
recognise (``--help``, an unknown or malformed option, a missing required one, a bad
``--input-format`` or ``--format``) makes it return None, and the caller hands the command line
to typer, which owns help texts and usage errors. Internal errors end as ``guarded`` ends them.

No typer, click or rich here: this module is imported before the CLI framework.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from pathlib import Path

from mastery_cli.cli.fast_validate import report_failure
from mastery_cli.cli.grade_run import INPUT_FORMATS, OUTPUT_KINDS, GradeOptions, run_grade
from mastery_cli.diagnostics import default_format

#: Options that take a value -> GradeOptions field (``--param`` collects, the others keep the
#: last value, as click does).
VALUE_OPTIONS = {
    "--framework": "framework",
    "--out": "out",
    "-o": "out",
    "--policy": "policy",
    "--input-format": "input_format",
    "--canvas-outcomes": "canvas_outcomes",
    "--method": "method",
    "--param": "params",
    "--format": "output_kind",
}
FLAGS = {
    "--keep-duplicates": "keep_duplicates",
    "--quiet": "quiet",
    "-q": "quiet",
    "--strict": "strict",
}
PATH_FIELDS = ("framework", "out", "policy", "canvas_outcomes")
#: Plain ``Path`` options, which typer refuses when they name an unreadable file or folder.
READ_CHECKED = ("framework", "out")


def parse_arguments(argv: Sequence[str]) -> GradeOptions | None:
    """grade's options from its arguments (after ``grade``), or None to let typer parse them.

    click's grammar: ``--opt value`` and ``--opt=value``; short options clustered (``-qo DIR``,
    ``-oDIR``); an option's value is the next argument even when it starts with "-"; options and
    files in any order; ``--`` ends the options; "-" alone is a file.
    """
    files: list[Path] = []
    values: dict[str, str] = {}
    params: list[str] = []
    flags: set[str] = set()

    def take(name: str, value: str) -> None:
        if name == "params":
            params.append(value)
        else:
            values[name] = value

    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if token == "--":
            files.extend(Path(t) for t in argv[index:])
            break
        if not token.startswith("-") or token == "-":
            files.append(Path(token))
        elif token.startswith("--"):
            option, equals, value = token.partition("=")
            if option in FLAGS and not equals:
                flags.add(FLAGS[option])
            elif option in VALUE_OPTIONS:
                if not equals:
                    if index >= len(argv):
                        return None  # typer: "Option '--out' requires an argument."
                    value = argv[index]
                    index += 1
                take(VALUE_OPTIONS[option], value)
            else:
                return None  # --help, a flag given a value, an option grade does not have
        else:
            position = 1
            while position < len(token):
                option = "-" + token[position]
                position += 1
                if option in FLAGS:
                    flags.add(FLAGS[option])
                elif option in VALUE_OPTIONS:
                    if position < len(token):
                        value, position = token[position:], len(token)
                    elif index < len(argv):
                        value = argv[index]
                        index += 1
                    else:
                        return None
                    take(VALUE_OPTIONS[option], value)
                else:
                    return None  # -h, or a short option grade does not have
    if not files or "framework" not in values or "out" not in values:
        return None  # typer names what is missing
    input_format = values.get("input_format", "auto")
    output_kind = values.get("output_kind", "csv")
    if input_format not in INPUT_FORMATS or output_kind not in OUTPUT_KINDS:
        return None
    paths = {name: Path(values[name]) for name in PATH_FIELDS if name in values}
    for name in READ_CHECKED:
        if os.path.exists(paths[name]) and not os.access(paths[name], os.R_OK):
            return None  # typer: "path 'x' is not readable."
    return GradeOptions(
        files=tuple(files),
        framework=paths["framework"],
        out=paths["out"],
        policy=paths.get("policy"),
        input_format=input_format,
        canvas_outcomes=paths.get("canvas_outcomes"),
        keep_duplicates="keep_duplicates" in flags,
        method=values.get("method"),
        params=tuple(params),
        output_kind=output_kind,
        quiet="quiet" in flags,
        strict="strict" in flags,
    )


def fast_main(argv: Sequence[str]) -> int | None:
    """Run ``mastery ARGV`` if it is a grade call this parser knows; None when typer should."""
    if not argv or argv[0] != "grade":
        return None
    options = parse_arguments(argv[1:])
    if options is None:
        return None
    # A short-lived process whose Python objects are per distinct value, not per row: the
    # cyclic collector would only walk them again before exit frees them anyway.
    gc.disable()
    keep_freed_memory()
    try:
        return run_grade(options)
    except KeyboardInterrupt:
        return 130  # what typer does (silently), so both paths behave alike
    except Exception as exc:  # the promise: no user ever reads a traceback
        # What guarded does on the typer path: grade has no diagnostics format option, so
        # problems are shown in the default one.
        return report_failure(exc, default_format())


def keep_freed_memory() -> None:
    """Have glibc's malloc keep the memory freed in this process for reuse.

    Grading a large file makes and drops many arrays of a few megabytes. By default glibc
    gives each one its own mapping and returns it to the system when it is freed, so the next
    array faults in fresh pages: on a virtual machine a page fault costs microseconds, and a
    million rows fault in hundreds of megabytes. From the heap, with nothing trimmed, freed
    arrays are reused as they are (measured: 26 ms less of 0.70 s at a million rows). For
    this short-lived process only (the library never changes the allocator), and only where
    the C library has glibc's ``mallopt``: elsewhere this does nothing.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):  # not glibc (macOS, Windows, musl without it)
        return
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    for option, value in ((_M_MMAP_THRESHOLD, 1 << 30),
                          (_M_TRIM_THRESHOLD, 2**31 - 1), (_M_TOP_PAD, 64 << 20)):
        mallopt(option, value)


# mallopt's parameter numbers (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
