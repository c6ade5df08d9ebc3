"""Hostile `--templates` folders: each is one diagnostic naming the template (or catalog) and
line, exit 1, and no side effect — no output, and no file the template tried to write.

Every folder in tests/template_cases/ is a ``--templates`` folder with ``expected.txt``, the
exact output of ``mastery report KIND --templates CASE`` run from tests/template_cases/ (KIND
and other options from ``args.txt``, default ``report-card``); the bundled templates' folder
prints as ``<bundled>``. ``UPDATE_GOLDEN=1`` rewrites the golden files; review the diff.

Each case runs in one process (``--jobs 1``) and in worker processes (``--jobs 2``): a
problem found in a worker is the same diagnostic.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.resources import templates_dir

CASES = Path(__file__).parent / "template_cases"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())
DATA = Path(__file__).parent / "data" / "report"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _arguments(case: str) -> list[str]:
    args_file = CASES / case / "args.txt"
    return args_file.read_text(encoding="utf-8").split() if args_file.exists() else [
        "report-card"]


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}


def test_there_is_a_case_per_class() -> None:
    for prefix in ("escape-", "catalog-", "runtime-", "not-utf8", "self-include",
                   "include-cycle", "missing-include", "syntax-error"):
        assert any(name.startswith(prefix) for name in CASE_NAMES), prefix


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("case", CASE_NAMES)
def test_hostile_templates(case: str, jobs: str, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    # A copy, so a template that managed to write a file would be caught doing it.
    work = tmp_path / "cases"
    shutil.copytree(CASES, work)
    before = _tree(tmp_path)
    monkeypatch.chdir(work)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "report", *_arguments(case), "--templates", case, "--out", str(out), "--jobs", jobs,
        "-q", "--grades", str(DATA / "grades"), "--framework", str(DATA / "framework"),
        "--date", "2025-12-19"], env={"COLUMNS": "400"})
    output = result.output.replace(str(templates_dir()), "<bundled>")
    golden = CASES / case / "expected.txt"
    if UPDATE and jobs == "1":
        golden.write_text(output, encoding="utf-8")
    assert output == golden.read_text(encoding="utf-8")
    assert result.exit_code == 1
    assert "error [template-" in output or "[missing-catalog]" in output
    assert "internal error" not in output and "Traceback" not in output
    assert not out.exists()
    assert _tree(tmp_path) == before
