"""Golden tests: every folder in tests/cases/ is validated and compared with its expected.txt.

A case folder holds the YAML file(s) of one situation and ``expected.txt``, the exact
``mastery validate --format text`` output (stdout) when run from ``tests/cases/`` on the folder
(or on the paths listed in ``args.txt``). The exit code must be 1 when the output reports an
error and 0 otherwise. ``UPDATE_GOLDEN=1 pytest tests/test_validate_cases.py`` rewrites the
golden files; review the diff before committing it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app

CASES = Path(__file__).parent / "cases"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
SUMMARY = re.compile(r"^\d+ files? checked: (\d+) errors?, (\d+) warnings?$", re.M)


def _arguments(case: str) -> list[str]:
    args_file = CASES / case / "args.txt"
    return args_file.read_text(encoding="utf-8").split() if args_file.exists() else [case]


def _expected_exit(output: str) -> int:
    match = SUMMARY.search(output)
    assert match, f"no summary line in:\n{output}"
    return 1 if int(match.group(1)) else 0


def test_there_are_enough_cases() -> None:
    assert len([c for c in CASE_NAMES if c != "good"]) >= 30
    assert "good" in CASE_NAMES


@pytest.mark.parametrize("case", CASE_NAMES)
def test_case_matches_golden_output(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CASES)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    result = CliRunner().invoke(app, ["validate", "--format", "text", *_arguments(case)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    golden = CASES / case / "expected.txt"
    if UPDATE:
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")
    assert result.exit_code == _expected_exit(result.stdout)
    assert "Traceback" not in result.output


def test_good_cases_pass_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    result = CliRunner().invoke(app, ["validate", "--strict", "good"])
    assert result.exit_code == 0, result.stdout
    assert result.stdout == "3 files checked: 0 errors, 0 warnings\n"


def test_every_error_case_points_at_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The promise to reviewers: a broken file gives a diagnostic at file:line, not just file."""
    without_line = {"file-not-found"}  # nothing to point into
    for case in CASE_NAMES:
        text = (CASES / case / "expected.txt").read_text(encoding="utf-8")
        for line in text.splitlines():
            if " error [" in line and case not in without_line:
                location = line.split(": ", 1)[0]
                assert re.fullmatch(r".+\.ya?ml:\d+:\d+", location), (case, line)
