"""The `mastery` command line: parsing options and printing, nothing else.

Command modules import the library inside their functions, so `mastery validate` never pays
for pandas or jinja2. `mastery validate FILES` does not even import typer: it is the command
editors and pre-commit hooks run on every save, and typer (with the pydantic it converts options
with) costs more than validating a small file. See mastery_cli/cli/fast_validate.py.
`mastery grade` has the same kind of fast path (mastery_cli/cli/fast_grade.py): typer costs
about as much as grading a class, and scripts grade many classes.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, NoReturn


def main() -> None:
    one_blas_thread()
    argv = sys.argv[1:]
    if argv[:1] == ["validate"]:
        from mastery_cli.cli.fast_validate import fast_main

        code = fast_main(argv)
        if code is not None:
            raise SystemExit(code)
    elif argv[:1] == ["grade"]:
        from mastery_cli.cli.fast_grade import fast_main as fast_grade

        code = fast_grade(argv)
        if code is not None:
            _exit_now(code)
    from mastery_cli.cli.application import app

    app()


def one_blas_thread() -> None:
    """Ask numpy's OpenBLAS for one thread, unless the user chose a number.

    OpenBLAS starts a thread per core when numpy is imported, and they spin for a while: 70 ms
    of CPU at start-up (measured), taken from pyarrow's parse of the gradebook. Nothing in
    mastery does linear algebra. Must run before numpy is imported.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _exit_now(code: int) -> NoReturn:
    """End the process at once, skipping the interpreter's teardown.

    After a large grade run, freeing what is left (hundreds of megabytes in numpy arrays and
    pyarrow buffers, object by object) takes 45 ms of a 0.7 s run at a million rows. By now
    every output file is written, closed and renamed into place; the streams are flushed here.
    Only for the console script: ``main`` is its entry point and nothing runs after it.
    """
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (| head) has nothing more to take.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def __getattr__(name: str) -> Any:
    # `from mastery_cli.cli import app` keeps working; typer loads only when it is asked for.
    if name == "app":
        from mastery_cli.cli.application import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
