"""`mastery grade` on the command line: what it prints, how it exits, what it passes to
`run_grade`, and what it imports (no pandas for CSV output)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import grade_run
from mastery_cli.cli.application import app
from mastery_cli.cli.grade_run import GradeOptions

REPO = Path(__file__).resolve().parents[1]
INPUTS = Path("tests/golden/grade/inputs")  # relative to REPO, so outputs name files alike
EXAMPLES = Path("examples")
GRADEBOOK = sorted(str(p.relative_to(REPO)) for p in (REPO / EXAMPLES / "gradebook").glob("*.csv"))
GOLDEN = [str(INPUTS / "scores.csv"), "--framework", str(INPUTS / "framework.yaml"),
          "--policy", str(INPUTS / "policy.yaml")]
SCHOOL = [*GRADEBOOK, "--framework", str(EXAMPLES / "framework"),
          "--policy", str(EXAMPLES / "policy.yaml")]
RESULT_FILES = ("target_grades.csv", "competency_grades.csv", "course_grades.csv",
                "progress.csv", "rejects.csv", "grades.json")


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", "100")  # rich's width, the same for both paths
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("MASTERY_DEBUG", raising=False)


def _outputs(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in RESULT_FILES
            if (folder / name).exists()}


def _grade(argv: Sequence[str]) -> tuple[str, str, int]:
    """(stdout, stderr, exit code) of ``mastery grade ARGV``."""
    result = CliRunner().invoke(app, ["grade", *argv])
    return result.stdout, result.stderr, result.exit_code


def _broken_csv(tmp_path: Path) -> str:
    path = tmp_path / "broken.csv"
    path.write_bytes(b"this,is,not\n\x00\x01,a gradebook\n")
    return str(path)


def test_summary_is_what_the_previous_implementation_printed(tmp_path: Path) -> None:
    """Printed by `mastery grade` before the fast path (pandas value_counts and groupby)."""
    out, err, code = _grade([*GOLDEN, "--out", str(tmp_path)])
    assert code == 0
    assert out == (
        "20 rows read = 14 used + 5 set aside + 1 rejected (1 duplicate dropped)\n"
        "2 students, 7 target results, 5 competency results, 2 course grades\n"
        "Not used: duplicate-row 1, excused 1, missing 1, no-score 1, type-excluded 1, "
        "unknown-target 1\n"
        # One table per scale, the levels reached with their labels (issue 17).
        "Levels per competency: points                     \n"
        "competency   3 Proficient   4 Advanced   no result\n"
        + "─" * 50 + "\n"
        "C1                      1            1           0\n"
        "C2                      0            1           1\n"
        "Levels per competency: habits     \n"
        "competency   3 Usually   no result\n"
        + "─" * 34 + "\n"
        "E1                   1           0\n"
        f"Wrote 5 files to {tmp_path}\n"
    )
    assert err == (
        f"{INPUTS}/scores.csv: info [no-score] 1 blank score(s): no evidence, set aside "
        "(not zeros)\n"
        f"{INPUTS}/scores.csv:17: warning [duplicate-row] 1 exact duplicate row(s) dropped "
        "(kept once)\n"
        "    hint: set keep_duplicates to count each copy as evidence\n"
        f"{INPUTS}/scores.csv:21:5: warning [unknown-target] unknown target 'T9'\n"
        "    hint: use a target or competency id of the framework (e.g. T1, T2, T3), or map "
        "this name in the outcome map\n"
    )


def test_school_summary_is_what_the_previous_implementation_printed(tmp_path: Path) -> None:
    out, _, code = _grade([*SCHOOL, "--out", str(tmp_path)])
    assert code == 0
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[:3] == [
        "3420 rows read = 2881 used + 539 set aside + 0 rejected",
        "66 students, 1502 target results, 435 competency results, 109 course grades",
        "Not used: excused 29, missing 16, no-score 75, type-excluded 419",
    ]
    # One table per scale, each level with its label (the academic scale first).
    assert lines[3:6] == [
        "Levels per competency: Academic scale",
        "competency   1 Beginning   2 Developing   3 Proficient   4 Advanced   no result",
        "─" * 79,
    ]
    assert lines[12] == ("SCI.LIFE               1             24             19            4"
                         "           0")
    assert lines[14:18] == [
        "competency   1 Rarely   2 Sometimes   3 Usually   4 Consistently   no result",
        "─" * 76,
        "HAB.COL             3            18          25                1          19",
        "HAB.SD              3            28          29                5           1",
    ]


# --- what the command passes to run_grade ----------------------------------------------------

def _options(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> GradeOptions:
    seen: list[GradeOptions] = []

    def record(options: GradeOptions) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr("mastery_cli.cli.grade.run_grade", record)
    result = CliRunner().invoke(app, ["grade", *argv])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1
    return seen[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["x.csv", "--framework", "fw", "-qo", "out", "--param", "n=3", "--param=places=1",
          "y.csv", "--format=json", "--strict"],
         GradeOptions(files=(Path("x.csv"), Path("y.csv")), framework=Path("fw"),
                      out=Path("out"), params=("n=3", "places=1"), output_kind="json",
                      quiet=True, strict=True)),
        (["a.csv", "--framework=f", "--framework", "g", "-o", "D", "--method", "highest"],
         GradeOptions(files=(Path("a.csv"),), framework=Path("g"), out=Path("D"),
                      method="highest")),
        (["--keep-duplicates", "a.csv", "--framework", "f", "-oD", "--policy", "p.yaml",
          "--input-format", "canvas-lmgb", "--canvas-outcomes", "c.csv", "--", "--strict"],
         GradeOptions(files=(Path("a.csv"), Path("--strict")), framework=Path("f"),
                      out=Path("D"), policy=Path("p.yaml"), input_format="canvas-lmgb",
                      canvas_outcomes=Path("c.csv"), keep_duplicates=True)),
    ],
)
def test_the_options_reach_run_grade_as_given(argv: list[str], expected: GradeOptions,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert _options(argv, monkeypatch) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["a.csv", "--framework", "f", "-o", "D", "--input-format", "xml"],
        ["a.csv", "--framework", "f", "-o", "D", "--format", "xlsx"],
        ["--framework", "f", "-o", "D"],
        ["a.csv", "-o", "D"],
        ["a.csv", "--framework", "f"],
        ["a.csv", "--framework", "f", "-o", "D", "--quiet=1"],
    ],
)
def test_usage_errors_exit_2_before_any_work(argv: list[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mastery_cli.cli.grade.run_grade", _boom)
    result = CliRunner().invoke(app, ["grade", *argv])
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output


# --- failures -----------------------------------------------------------------------------

def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom")


def test_a_broken_csv_exits_1_without_a_traceback(tmp_path: Path) -> None:
    _, err, code = _grade([_broken_csv(tmp_path), *GOLDEN[1:], "-o", str(tmp_path / "out")])
    assert code == 1 and "Traceback" not in err


def test_problems_are_annotations_under_github_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _, err, code = _grade([*GOLDEN, "--method", "nope", "-o", str(tmp_path)])
    assert code == 1 and err.startswith("::error ")


# --- the progress bar -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("threshold", "terminal", "quiet", "shown"),
    [(0, True, False, True), (0, False, False, False), (0, True, True, False),
     (10**9, True, False, False)],
)
def test_progress_bar_only_on_a_terminal_for_big_inputs(
    threshold: int, terminal: bool, quiet: bool, shown: bool, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    decisions: list[bool] = []

    class Recording(grade_run.Steps):
        def __init__(self, *, enabled: bool) -> None:
            super().__init__(enabled=False)  # no real bar in a test's captured stderr
            decisions.append(enabled)

    monkeypatch.setattr(grade_run, "Steps", Recording)
    monkeypatch.setattr(grade_run, "PROGRESS_BYTES", threshold)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    # The command's body itself: CliRunner would replace stderr, whose isatty is asked.
    options = GradeOptions(files=(INPUTS / "scores.csv",), framework=INPUTS / "framework.yaml",
                           policy=INPUTS / "policy.yaml", out=tmp_path, quiet=quiet)
    assert grade_run.run_grade(options) == 0
    assert decisions == [shown]


def test_progress_bar_steps(capsys: pytest.CaptureFixture[str]) -> None:
    steps = grade_run.Steps(enabled=True)
    with steps:
        for name in ("read", "grade", "roll up", "write", "unknown step"):
            steps.step(name)
        assert steps.progress.tasks[0].total == 4
        assert steps.progress.tasks[0].description == "unknown step"
    assert not steps.progress.live.is_started


# --- start-up cost --------------------------------------------------------------------------

def _modules(*argv: str) -> tuple[int, set[str], str]:
    """Exit code, modules imported and stderr of ``python -X importtime -m mastery_cli ARGV``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mastery_cli", *argv], cwd=REPO,
        capture_output=True, text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "100"},
    )
    lines = result.stderr.splitlines()
    modules = {line.split("|")[-1].strip() for line in lines if line.startswith("import time:")}
    messages = "\n".join(line for line in lines if not line.startswith("import time:"))
    return result.returncode, modules, messages


def test_quiet_grade_imports_neither_rich_nor_jinja2(tmp_path: Path) -> None:
    code, modules, messages = _modules("grade", *GOLDEN, "--out", str(tmp_path), "-q")
    assert code == 0, messages
    assert "warning [unknown-target]" in messages  # diagnostics still printed
    assert (tmp_path / "target_grades.csv").exists()
    assert not [m for m in modules if m.split(".")[0] in ("rich", "jinja2", "pandas")]


def test_grade_without_quiet_imports_rich_for_the_summary(tmp_path: Path) -> None:
    code, modules, messages = _modules("grade", *GOLDEN, "--out", str(tmp_path))
    assert code == 0, messages
    assert "rich.table" in modules


def test_grade_does_not_import_pandas(tmp_path: Path) -> None:
    """The CSV run, summary included: pandas is for grades.json, reports and explain.
    (This also needs the library underneath - reader, pipeline, writer - to be pandas-free.)"""
    for extra in (["-q"], []):
        code, modules, messages = _modules("grade", *SCHOOL, "--out", str(tmp_path), *extra)
        assert code == 0, messages
        assert "pandas" not in modules, extra


def test_help_and_usage_errors_still_come_from_typer(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mastery_cli", "grade", "--help"], cwd=REPO,
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"})
    assert result.returncode == 0 and "--keep-duplicates" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "mastery_cli", "grade", *GOLDEN, "--out", str(tmp_path),
         "--input-format", "xml"], cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "100"})
    assert result.returncode == 2 and "choose one of: auto, long" in result.stderr
    assert not (tmp_path / "target_grades.csv").exists()


def test_the_console_script_prints_everything_and_keeps_the_strict_exit_code(
    tmp_path: Path
) -> None:
    """Through a pipe, as scripts run it: every line arrives, and --strict's exit code too."""
    result = subprocess.run(
        [sys.executable, "-m", "mastery_cli", "grade", *GOLDEN, "--out", str(tmp_path),
         "--strict"], cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "100"})
    assert result.returncode == 1
    assert result.stdout.startswith("20 rows read = 14 used")
    assert f"Wrote 5 files to {tmp_path}" in result.stdout.replace("\n", "")
    assert "[unknown-target]" in result.stderr
    assert result.stderr.rstrip().endswith("outputs written, exit 1")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(RESULT_FILES[:5])
