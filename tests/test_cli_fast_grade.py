"""`mastery grade`'s start-up fast path: the same bytes and exit codes as the typer command,
typer for everything it does not know, and no typer, rich or pandas at start-up."""

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
from mastery_cli.cli.fast_grade import fast_main, parse_arguments
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


def _both(argv: Sequence[str], capsys: pytest.CaptureFixture[str],
          out: Path | None = None) -> tuple[tuple[str, str, int], tuple[str, str, int | None]]:
    """(stdout, stderr, exit code) of ``mastery grade ARGV`` through typer, then the fast path;
    with ``out``, the files each wrote there must be the same too."""
    typer_result = CliRunner().invoke(app, ["grade", *argv])
    typer_files = _outputs(out) if out else {}
    if out:
        for name in typer_files:
            (out / name).unlink()
    code = fast_main(["grade", *argv])
    captured = capsys.readouterr()
    if out:
        assert _outputs(out) == typer_files
    return ((typer_result.stdout, typer_result.stderr, typer_result.exit_code),
            (captured.out, captured.err, code))


def _broken_csv(tmp_path: Path) -> str:
    path = tmp_path / "broken.csv"
    path.write_bytes(b"this,is,not\n\x00\x01,a gradebook\n")
    return str(path)


@pytest.mark.parametrize(
    ("name", "argv"),
    [
        ("school", [*SCHOOL]),
        ("school-json-quiet", [*SCHOOL, "--format", "json", "-q"]),
        ("golden-strict", [*GOLDEN, "--strict"]),
        ("golden-equals-forms", [*GOLDEN, "--format=json", "--input-format=long", "--strict",
                                 "--quiet"]),
        ("keep-duplicates", [*GOLDEN, "--keep-duplicates"]),
        ("method-params", [str(INPUTS / "scores.csv"), "--framework",
                           str(INPUTS / "framework.yaml"), "--method", "highest", "--param",
                           "min_evidence=1", "--param=places=1"]),
        ("bad-method", [*GOLDEN, "--method", "decaying_avrage"]),
        ("bad-weight", [*GOLDEN, "--method", "weighted_average", "--param", "weight=1.2"]),
        ("malformed-param", [*GOLDEN, "--param", "weight"]),
        ("missing-file", ["nope.csv", *GOLDEN[1:]]),
        ("missing-framework", [*GOLDEN[:1], "--framework", "nope/"]),
        ("missing-canvas-outcomes", [*GOLDEN, "--canvas-outcomes", "nope.csv"]),
        ("wrong-input-format", [*GOLDEN, "--input-format", "canvas-results"]),
        ("files-after-options", ["--framework", str(INPUTS / "framework.yaml"), "-q",
                                 str(INPUTS / "scores.csv"), "--", str(INPUTS / "scores.csv")]),
    ],
)
def test_fast_path_matches_typer(name: str, argv: list[str], tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    typer_side, fast_side = _both(["--out", str(out), *argv], capsys, out)
    assert fast_side == typer_side
    assert "Traceback" not in fast_side[1]


def test_fast_path_matches_typer_on_a_broken_csv(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    argv = [_broken_csv(tmp_path), *GOLDEN[1:], "-o", str(tmp_path / "out")]
    typer_side, fast_side = _both(argv, capsys)
    assert fast_side == typer_side
    assert fast_side[2] == 1 and "Traceback" not in fast_side[1]


def test_fast_path_matches_typer_under_github_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # problems as annotations, on both paths
    typer_side, fast_side = _both([*GOLDEN, "--method", "nope", "-o", str(tmp_path)], capsys)
    assert fast_side == typer_side
    assert fast_side[1].startswith("::error ")


def test_summary_is_what_the_previous_implementation_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Printed by `mastery grade` before the fast path (pandas value_counts and groupby)."""
    assert fast_main(["grade", *GOLDEN, "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == (
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
    assert captured.err == (
        f"{INPUTS}/scores.csv: info [no-score] 1 blank score(s): no evidence, set aside "
        "(not zeros)\n"
        f"{INPUTS}/scores.csv:17: warning [duplicate-row] 1 exact duplicate row(s) dropped "
        "(kept once)\n"
        "    hint: set keep_duplicates to count each copy as evidence\n"
        f"{INPUTS}/scores.csv:21:5: warning [unknown-target] unknown target 'T9'\n"
        "    hint: use a target or competency id of the framework (e.g. T1, T2, T3), or map "
        "this name in the outcome map\n"
    )


def test_school_summary_is_what_the_previous_implementation_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fast_main(["grade", *SCHOOL, "--out", str(tmp_path)]) == 0
    lines = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
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


# --- what the fast path parses, and what it leaves to typer ---------------------------------

@pytest.mark.parametrize(
    "argv",
    [
        ["a.csv", "--framework", "f", "--out", "o"],
        ["a.csv", "--framework=f", "--framework", "g", "-o", "D", "--format=json",
         "--param", "a=1", "--param=b=2", "--param="],
        ["a.csv", "--framework", "f", "--out", "--quiet"],  # a value may start with "-"
        ["a.csv", "--framework", "f", "--out="],
        ["a.csv", "--framework", "f", "-qo", "D"],
        ["a.csv", "--framework", "f", "-oD", "-q", "-q"],
        ["--keep-duplicates", "a.csv", "--framework", "f", "-o", "D", "b.csv", "--", "--strict"],
        ["-", "--framework", "f", "-o", "D", "--method", "-q", "--method=highest"],
        ["", "--framework", "", "-o", "", "--policy", "", "--canvas-outcomes", "c.csv"],
        ["a.csv", "--framework", "f", "-o", "D", "--input-format", "canvas-lmgb", "--strict",
         "--format", "csv", "--method="],
    ],
)
def test_parses_what_typer_parses(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[GradeOptions] = []

    def record(options: GradeOptions) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr("mastery_cli.cli.grade.run_grade", record)
    result = CliRunner().invoke(app, ["grade", *argv])
    assert result.exit_code == 0, result.output
    assert parse_arguments(argv) == seen[0]


def test_parsed_values() -> None:
    # Independent of typer: what the options mean.
    options = parse_arguments(["x.csv", "--framework", "fw", "-qo", "out", "--param", "n=3",
                               "--param=places=1", "y.csv", "--format=json", "--strict"])
    assert options == GradeOptions(
        files=(Path("x.csv"), Path("y.csv")), framework=Path("fw"), out=Path("out"),
        params=("n=3", "places=1"), output_kind="json", quiet=True, strict=True)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"], ["a.csv", "--framework", "f", "-o", "D", "-h"],
        ["a.csv", "--framework", "f", "-o", "D", "-qh"],
        ["a.csv", "--framework", "f", "-o", "D", "--quiet=1"],
        ["a.csv", "--framework", "f", "-o", "D", "--strict=true"],
        ["a.csv", "--framework", "f", "-o", "D", "--no-quiet"],
        ["a.csv", "--framework", "f", "-o", "D", "--qui"],
        ["a.csv", "--framework", "f", "-o", "D", "-q-"],
        ["a.csv", "--framework", "f", "-o", "D", "-5"],
        ["a.csv", "--framework", "f", "-o", "D", "--=x"],
        ["a.csv", "--framework", "f", "-o"],
        ["a.csv", "--framework", "f", "-o", "D", "--method"],
        ["a.csv", "--framework", "f", "-o", "D", "--input-format", "xml"],
        ["a.csv", "--framework", "f", "-o", "D", "--input-format=Long"],
        ["a.csv", "--framework", "f", "-o", "D", "--format", "xlsx"],
        ["--framework", "f", "-o", "D"],
        ["a.csv", "-o", "D"],
        ["a.csv", "--framework", "f"],
        ["a.csv", "--framework", "f", "-o", "D", "--version"],
    ],
)
def test_leaves_the_rest_to_typer(argv: list[str]) -> None:
    assert parse_arguments(argv) is None
    assert fast_main(["grade", *argv]) is None
    assert CliRunner().invoke(app, ["grade", *argv]).exit_code in (0, 2)  # help or usage


def test_only_for_grade() -> None:
    assert fast_main([]) is None
    assert fast_main(["validate", "examples"]) is None
    assert fast_main(["explain", "0012", "T1", *GOLDEN]) is None


# --- failures -----------------------------------------------------------------------------

def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom")


def test_internal_error_like_guarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("mastery_cli.grading.pipeline.grade", _boom)
    typer_side, fast_side = _both([*GOLDEN, "-o", str(tmp_path)], capsys)
    assert fast_side == typer_side
    assert fast_side[2] == 2
    assert fast_side[1].startswith("mastery: internal error: RuntimeError: boom\n    hint: ")
    assert "Traceback" not in fast_side[1]
    monkeypatch.setenv("MASTERY_DEBUG", "1")
    assert fast_main(["grade", *GOLDEN, "-o", str(tmp_path)]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_interrupt_like_typer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("mastery_cli.grading.pipeline.grade", interrupted)
    typer_side, fast_side = _both([*GOLDEN, "-o", str(tmp_path)], capsys)
    assert fast_side == typer_side == ("", "", 130)


# --- the progress bar -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("threshold", "terminal", "quiet", "shown"),
    [(0, True, False, True), (0, False, False, False), (0, True, True, False),
     (10**9, True, False, False)],
)
def test_progress_bar_only_on_a_terminal_for_big_inputs(
    threshold: int, terminal: bool, quiet: bool, shown: bool, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    decisions: list[bool] = []

    class Recording(grade_run.Steps):
        def __init__(self, *, enabled: bool) -> None:
            super().__init__(enabled=False)  # no real bar in a test's captured stderr
            decisions.append(enabled)

    monkeypatch.setattr(grade_run, "Steps", Recording)
    monkeypatch.setattr(grade_run, "PROGRESS_BYTES", threshold)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    argv = ["grade", *GOLDEN, "-o", str(tmp_path), *(["-q"] if quiet else [])]
    assert fast_main(argv) == 0
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


FRAMEWORK_MODULES = ("typer", "click", "rich", "pydantic", "jinja2")


def test_quiet_grade_does_not_import_the_cli_framework(tmp_path: Path) -> None:
    code, modules, messages = _modules("grade", *GOLDEN, "--out", str(tmp_path), "-q")
    assert code == 0, messages
    assert "warning [unknown-target]" in messages  # diagnostics still printed
    assert (tmp_path / "target_grades.csv").exists()
    assert not [m for m in modules if m.split(".")[0] in FRAMEWORK_MODULES]


def test_grade_without_quiet_imports_rich_for_the_summary_only(tmp_path: Path) -> None:
    code, modules, messages = _modules("grade", *GOLDEN, "--out", str(tmp_path))
    assert code == 0, messages
    assert "rich.table" in modules
    assert not [m for m in modules if m.split(".")[0] in ("typer", "click", "pydantic")]


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


def test_the_console_script_flushes_everything_before_its_fast_exit(tmp_path: Path) -> None:
    """`mastery grade` ends with os._exit (no interpreter teardown): what it printed to a pipe
    must still arrive, and --strict's exit code must survive it."""
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


def test_openblas_gets_one_thread_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    from mastery_cli.cli import one_blas_thread

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    one_blas_thread()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    one_blas_thread()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"


def test_the_console_script_starts_numpy_with_one_blas_thread(tmp_path: Path) -> None:
    # main() sets it for the whole process, before any command imports numpy.
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    code = ("import sys, os; sys.argv = ['mastery', '--version']\n"
            "from mastery_cli.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(os.environ.get('OPENBLAS_NUM_THREADS'))")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, cwd=REPO, check=False)
    assert result.stdout.strip().splitlines()[-1] == "1"
