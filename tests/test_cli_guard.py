"""Every command stops alike: one error guard (`cli.common.guarded`) for all of them.

A problem in the user's files exits 1 with its diagnostic, misuse 2, Ctrl-C 130 with nothing
printed, and a bug exits 2 with one line and a hint (the traceback only with MASTERY_DEBUG=1).
Each command is made to fail where its work starts, by replacing the library function it calls
first; the table below must name every command the application has.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.diagnostics import MasteryError, error

REPO = Path(__file__).resolve().parents[1]
FRAMEWORK = "examples/framework"
GRADEBOOK = "examples/gradebook/algebra1_fall.csv"
LOAD_FRAMEWORK = "mastery_cli.validation.load_framework"

#: command -> (its arguments after the command's name, the library function it calls first).
COMMANDS: dict[str, tuple[list[str], str]] = {
    "validate": ([FRAMEWORK], "mastery_cli.validation.validate_paths"),
    "schema": (["framework"], "mastery_cli.schemas.load_schema"),
    "grade": ([GRADEBOOK, "--framework", FRAMEWORK, "--out", "{out}"], LOAD_FRAMEWORK),
    "explain": (["0041001", "MATH.ALG.2", GRADEBOOK, "--framework", FRAMEWORK],
                LOAD_FRAMEWORK),
    "report": (["report-card", "--grades", "{out}", "--framework", FRAMEWORK, "--out",
                "{out}/reports"], LOAD_FRAMEWORK),
    "import case": (["tests/data/interop/small-case.json", "--out", "{out}"],
                    "mastery_cli.interop.case_import.read_case_package"),
    "import moodle": (["tests/data/interop/small-moodle.csv", "--out", "{out}"],
                      "mastery_cli.interop.moodle.read_moodle_csv"),
    "export case": ([FRAMEWORK, "--out", "{out}/case.json"], LOAD_FRAMEWORK),
    "export moodle": ([FRAMEWORK, "--out", "{out}/moodle.csv"], LOAD_FRAMEWORK),
    "export canvas-outcomes": ([FRAMEWORK, "--out", "{out}/outcomes.csv"], LOAD_FRAMEWORK),
    "calibrate": (["examples/calibration/lab-report-session.csv", "--framework", FRAMEWORK,
                   "--out", "{out}/calibration"], LOAD_FRAMEWORK),
    "export ob3": (["--grades", "{out}", "--framework", FRAMEWORK, "--out", "{out}/ob3"],
                   LOAD_FRAMEWORK),
    "export ob3-key": (["--out", "{out}/key.pem"],
                       "mastery_cli.interop.ob3_sign.new_private_key_pem"),
    "import ob3": (["tests/data/interop/small-case.json", "--framework", FRAMEWORK, "--out",
                    "{out}/imported"], LOAD_FRAMEWORK),
}


def _command_names() -> set[str]:
    names: set[str] = set()

    def walk(command: Any, prefix: list[str]) -> None:
        if getattr(command, "commands", None):
            for name, sub in command.commands.items():
                walk(sub, [*prefix, name])
        else:
            names.add(" ".join(prefix))

    walk(typer.main.get_command(app), [])
    return names


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("MASTERY_DEBUG", raising=False)


def _failing(monkeypatch: pytest.MonkeyPatch, command: str, exc: BaseException) -> list[str]:
    """The command's arguments, with its first library call replaced by one raising ``exc``."""
    calls: list[object] = []

    def fail(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise exc

    argv, target = COMMANDS[command]
    monkeypatch.setattr(target, fail)
    return [*command.split(), *argv]


def _run(argv: list[str], out: Path, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, [a.replace("{out}", str(out)) for a in argv], env=env)


def test_the_table_names_every_command() -> None:
    assert set(COMMANDS) == _command_names()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_ctrl_c_exits_130_and_prints_nothing(command: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(_failing(monkeypatch, command, KeyboardInterrupt()), tmp_path)
    assert (result.stdout, result.stderr, result.exit_code) == ("", "", 130)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_bug_is_one_line_and_a_hint_exit_2(command: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    argv = _failing(monkeypatch, command, RuntimeError("boom"))
    result = _run(argv, tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("mastery: internal error: RuntimeError: boom\n    hint: "), (
        result.stderr)
    assert "MASTERY_DEBUG=1" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    debug = _run(argv, tmp_path, env={"MASTERY_DEBUG": "1"})
    assert debug.exit_code == 2 and "Traceback" in debug.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_problem_in_the_files_exits_1_with_its_diagnostic(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = MasteryError(error("forged-problem", "this file is wrong", "their.yaml", 3, 4))
    result = _run(_failing(monkeypatch, command, problem), tmp_path)
    assert result.exit_code == 1, result.output
    assert "their.yaml:3:4: error [forged-problem] this file is wrong" in result.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_misuse_found_by_the_library_exits_2(command: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    problem = MasteryError(error("forged-usage", "not like that", "<command line>"), usage=True)
    result = _run(_failing(monkeypatch, command, problem), tmp_path)
    assert result.exit_code == 2, result.output
    assert "error [forged-usage] not like that" in result.stderr


def test_with_format_json_the_diagnostics_go_to_stdout_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = MasteryError(error("forged-problem", "this file is wrong", "their.yaml", 3, 4))
    result = _run([*_failing(monkeypatch, "validate", problem), "--format", "json"], tmp_path)
    assert result.exit_code == 1
    assert '"code": "forged-problem"' in result.stdout and result.stderr == ""


_SCRIPT = """
import sys
import mastery_cli.validation, mastery_cli.cli.grade_run
def interrupted(*args, **kwargs):
    raise KeyboardInterrupt
mastery_cli.validation.validate_paths = interrupted
mastery_cli.validation.load_framework = interrupted
sys.argv = ["mastery", *sys.argv[1:]]
from mastery_cli.cli import main
main()
"""


@pytest.mark.parametrize("argv", [["validate", FRAMEWORK],
                                  ["grade", GRADEBOOK, "--framework", FRAMEWORK, "-o", "{out}"]])
def test_the_console_script_exits_130_when_interrupted(argv: list[str], tmp_path: Path) -> None:
    """What the shell sees: `mastery validate` used to exit 1 here and `mastery grade` 130."""
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *(a.replace("{out}", str(tmp_path)) for a in argv)],
        cwd=REPO, capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"})
    assert (result.returncode, result.stdout, result.stderr) == (130, "", "")


def test_every_command_function_is_guarded() -> None:
    """The guard is applied to each command function, so a new command without it fails here."""
    root = typer.main.get_command(app)
    unguarded: list[str] = []

    def walk(command: Any, prefix: list[str]) -> None:
        if getattr(command, "commands", None):
            for name, sub in command.commands.items():
                walk(sub, [*prefix, name])
        elif not getattr(_original(command.callback), "guarded", False):
            unguarded.append(" ".join(prefix))

    walk(root, [])
    assert unguarded == []


def _original(callback: Any) -> Any:
    # typer wraps each command function; follow the wrappers back to the guarded one.
    while callback is not None and not getattr(callback, "guarded", False):
        callback = getattr(callback, "__wrapped__", None)
    return callback
