"""What a command costs before it does its work: modules it never uses stay unimported, and
typer reads the command definitions without evaluating them again."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import typer.main

from mastery_cli.cli import app

REPO = Path(__file__).resolve().parents[1]

# Two students, a few targets of the example framework, a label, a blank and two reasons to
# set rows aside: the common case of a small long export.
SMALL_LONG_CSV = """\
student_id,student_name,target,score,date,assessment,type,section,course
0000001,"García, Ben",HAB.COL.1,3,2025-09-14,Task 1,practice,P1,ALG1
0000001,"García, Ben",HAB.COL.1,4,2025-10-12,Task 2,summative,P1,ALG1
0000001,"García, Ben",HAB.COL.2,Usually,2025-09-03,Task 11,practice,P1,ALG1
0000001,"García, Ben",MATH.ALG.1,2,2025-11-19,Task 4,summative,P1,ALG1
0000001,"García, Ben",MATH.ALG.1,,2025-12-04,Task 5,summative,P1,ALG1
0000002,Ana Ruiz,MATH.ALG.1,3,2025-09-25,Task 12,summative,P1,ALG1
0000002,Ana Ruiz,MATH.ALG.2,4,2025-10-31,Task 13,formative,P1,ALG1
0000002,Ana Ruiz,NO.SUCH.TARGET,4,2025-10-31,Task 13,formative,P1,ALG1
"""


def _imported_modules(*args: str, cwd: Path) -> tuple[int, set[str], str]:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "mastery_cli", *args],
                            cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "100"})
    modules = {line.split("|")[-1].strip() for line in result.stderr.splitlines()
               if line.startswith("import time:")}
    return result.returncode, modules, result.stdout + result.stderr


def test_a_small_grade_does_not_import_numpy_ma(tmp_path: Path) -> None:
    """numpy's plain ``np.unique`` imports numpy.ma (~15 ms) on its first call: the grade
    path counts distinct values with `sorted_distinct` instead."""
    scores = tmp_path / "scores.csv"
    scores.write_text(SMALL_LONG_CSV, encoding="utf-8")
    code, modules, output = _imported_modules(
        "grade", str(scores), "--framework", "examples/framework", "--out",
        str(tmp_path / "out"), cwd=REPO)
    assert code == 0, output
    assert (tmp_path / "out" / "target_grades.csv").is_file()
    assert "numpy" in modules, "the check would see numpy.ma if it were imported"
    assert "numpy.ma" not in modules


def test_command_annotations_are_objects_not_strings() -> None:
    """typer reads each command's signature twice on every run; annotations left as strings
    (``from __future__ import annotations`` in a command module) make it evaluate every
    ``Annotated[..., typer.Option(...)]`` again, ~20 ms of each command's start."""
    root = typer.main.get_command(app)
    callbacks = []

    def walk(command: object) -> None:
        callback = getattr(command, "callback", None)
        if callback is not None:
            callbacks.append(inspect.unwrap(callback))
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(root)
    assert len(callbacks) > 10
    stringly = [f"{f.__module__}.{f.__qualname__}" for f in callbacks
                if any(isinstance(a, str) for a in f.__annotations__.values())]
    assert not stringly
