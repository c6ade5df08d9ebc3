"""`mastery validate` and `mastery schema` on the command line: formats, exit codes, imports."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.diagnostics import Diagnostic, Severity, render_github

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "cases"
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.chdir(CASES)


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env=env)


# --- formats ------------------------------------------------------------------------------------

def test_text_format_lines_and_summary() -> None:
    result = invoke("validate", "unresolved-course")
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert lines[0].startswith("unresolved-course/framework.yaml:40:20: error "
                               "[unresolved-reference] competency 'MATHS' is not defined")
    assert lines[1] == "    hint: did you mean 'MATH'?"
    assert lines[-1] == "1 file checked: 3 errors, 0 warnings"


def test_json_format() -> None:
    result = invoke("validate", "--format", "json", "missing-i-can")
    document = json.loads(result.stdout)
    assert result.exit_code == 0
    assert document["version"] == 1
    assert document["summary"] == {"files": 1, "errors": 0, "warnings": 1}
    first = document["diagnostics"][0]
    assert first == {
        "path": "missing-i-can/framework.yaml", "line": 29, "column": 9,
        "pointer": "/competencies/0/targets/1", "code": "missing-i-can", "severity": "warning",
        "message": "target 'MATH.2' has no \"I can\" statement",
        "hint": "add 'i_can:' with the target in a student's words; it appears on report cards "
                "and \"I can\" sheets",
    }
    assert len(document["diagnostics"]) == 1


def test_github_format_and_auto_selection() -> None:
    explicit = invoke("validate", "-f", "github", "schema-enum")
    automatic = invoke("validate", "schema-enum", env={"GITHUB_ACTIONS": "true"})
    expected = (
        "::error file=schema-enum/framework.yaml,line=20,col=11,title=schema-enum::'academc' is "
        "not one of: academic, efficacy (hint: did you mean 'academic'?)\n"
        "1 file checked: 1 error, 0 warnings\n"
    )
    assert explicit.stdout == expected
    assert automatic.stdout == expected
    assert invoke("validate", "schema-enum", env={"GITHUB_ACTIONS": "false"}).stdout.startswith(
        "schema-enum/framework.yaml:20:11: error"
    )


def test_github_annotations_escape_properties_and_data() -> None:
    # Line breaks from the files are shown as \n, as in the text format (one rule for both),
    # so the %0A of GitHub's own escaping never comes from the user's text.
    diagnostic = Diagnostic("dir,x/a:b%c.yaml", 3, 4, "some-code", "50% done\nnext line\r",
                            Severity.WARNING, "use a, b: c")
    assert render_github(diagnostic) == (
        "::warning file=dir%2Cx/a%3Ab%25c.yaml,line=3,col=4,title=some-code::"
        "50%25 done\\nnext line\\r (hint: use a, b: c)"
    )


def test_github_escaping_through_the_command(tmp_path: Path) -> None:
    weird = tmp_path / "50%,a:b.yaml"
    shutil.copy(CASES / "schema-const" / "framework.yaml", weird)
    result = invoke("validate", "--format", "github", str(weird))
    assert result.exit_code == 1
    assert "file=" + str(weird).replace("%", "%25").replace(",", "%2C").replace(":", "%3A") \
        + ",line=2,col=17," in result.stdout


# --- exit codes, --strict, --verbose -----------------------------------------------------------

def test_exit_codes() -> None:
    assert invoke("validate", "good").exit_code == 0
    assert invoke("validate", "schema-enum").exit_code == 1
    assert invoke("validate", "--format", "xml", "good").exit_code == 2
    assert invoke("validate", "--no-such-option", "good").exit_code == 2
    assert invoke("validate", "file-not-found/missing.yaml").exit_code == 1


def test_strict_fails_on_warnings() -> None:
    assert invoke("validate", "missing-i-can").exit_code == 0
    result = invoke("validate", "--strict", "missing-i-can")
    assert result.exit_code == 1
    assert result.stdout.endswith("1 file checked: 0 errors, 1 warning\n")


def test_verbose_lists_skipped_files() -> None:
    quiet = invoke("validate", "good")
    verbose = invoke("validate", "--verbose", "good")
    assert "skipped" not in quiet.stderr
    assert verbose.stderr == "skipped good/docker-compose.yml: no 'kind' key\n"
    assert verbose.stdout == quiet.stdout
    as_json = json.loads(invoke("validate", "-v", "-f", "json", "good").stdout)
    assert as_json["summary"]["skipped"] == [
        {"path": "good/docker-compose.yml", "reason": "no 'kind' key"}
    ]


def test_folder_without_mastery_files(tmp_path: Path) -> None:
    (tmp_path / "ci.yml").write_text("on: push\n", encoding="utf-8")
    result = invoke("validate", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout == "0 files checked: 0 errors, 0 warnings\n"
    assert "no mastery files found" in result.stderr


def test_default_is_the_current_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES / "good")
    assert invoke("validate").stdout == "3 files checked: 0 errors, 0 warnings\n"


# --- schema command and help texts ----------------------------------------------------------------

def test_schema_prints_and_writes(tmp_path: Path) -> None:
    printed = invoke("schema", "framework")
    assert printed.exit_code == 0
    assert json.loads(printed.stdout)["title"] == "mastery competency framework"
    written = invoke("schema", "--out", str(tmp_path / "out"))
    assert written.exit_code == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "framework.schema.json" in names and "rubric.schema.json" in names
    assert json.loads((tmp_path / "out" / "rubric.schema.json").read_text())["title"]
    assert invoke("schema", "gradebook").exit_code == 2


@pytest.mark.parametrize("command", ["validate", "schema"])
def test_help_has_examples(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert f"mastery {command}" in result.stdout


# --- start-up cost -------------------------------------------------------------------------------

def _imported_modules(*args: str, cwd: Path) -> tuple[int, set[str], str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    modules = {line.split("|")[-1].strip() for line in result.stderr.splitlines()
               if line.startswith("import time:")}
    return result.returncode, modules, result.stdout


def test_validate_does_not_import_heavy_libraries(tmp_path: Path) -> None:
    """Not timed, but what costs start-up time: pandas, jinja2, rich and the grading engine
    stay out; jsonschema too while files are valid (jsonschema-rs says so), and need no
    scalar read back as text."""
    text = (CASES / "missing-i-can" / "framework.yaml").read_text(encoding="utf-8")
    (tmp_path / "framework.yaml").write_text(
        text.replace("      - id: MATH.2\n", "      - id: MATH.2\n        i_can: I can.\n"),
        encoding="utf-8",
    )
    code, modules, out = _imported_modules(
        "-m", "mastery_cli", "validate", "--strict", str(tmp_path), cwd=CASES)
    assert code == 0, out
    assert "jsonschema_rs" in modules
    for heavy in ("pandas", "jinja2", "rich", "jsonschema", "numpy", "pyarrow",
                  "mastery_cli.grading"):
        assert heavy not in modules, heavy
    code, modules, _ = _imported_modules("-m", "mastery_cli", "validate", "schema-enum",
                                         cwd=CASES)
    assert code == 1 and "jsonschema" in modules and "pandas" not in modules


# --- pre-commit hook ------------------------------------------------------------------------------

def test_pre_commit_hook_entry_runs(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "mastery-validate")
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    command = shlex.split(hook["entry"])
    assert command[0] == "mastery"
    executable = shutil.which("mastery", path=str(BIN)) or shutil.which("mastery")
    assert executable, "the mastery command is not installed"
    repo = tmp_path / "repo"
    shutil.copytree(CASES / "good", repo)
    ok = subprocess.run([executable, *command[1:]], cwd=repo, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip() == "3 files checked: 0 errors, 0 warnings"
    shutil.copy(CASES / "schema-enum" / "framework.yaml", repo / "broken.yaml")
    broken = subprocess.run([executable, *command[1:]], cwd=repo, capture_output=True, text=True)
    assert broken.returncode == 1
    assert "broken.yaml:20:11: error [schema-enum]" in broken.stdout
