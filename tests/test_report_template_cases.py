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
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.reports import ReportData
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
    shutil.copytree(CASES, work, symlinks=True)
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


def _report(out: Path, templates: Path, *args: str) -> object:
    return CliRunner().invoke(app, [
        "report", "report-card", "--templates", str(templates), "--out", str(out), "-q",
        "--grades", str(DATA / "grades"), "--framework", str(DATA / "framework"),
        "--date", "2025-12-19", *args], env={"COLUMNS": "400"})


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_one_failing_document_leaves_out_as_it_was(tmp_path: Path, jobs: str) -> None:
    """A template that fails on one student's data only: the other report cards rendered, but
    none of them (nor the index) replaces the earlier run's files, and no temporary file is
    left behind."""
    out = tmp_path / "out"
    (out / "report-cards").mkdir(parents=True)
    (out / "report-cards" / "0012345.html").write_text("earlier run", encoding="utf-8")
    (out / "index.html").write_text("earlier index", encoding="utf-8")
    before = _tree(out)
    templates = tmp_path / "district"
    templates.mkdir()
    (templates / "report-card.html.j2").write_text(
        "<title>{{ student.name }}</title>\n"
        "{% if student.id == 'S004' %}{{ student.sections|sum }}{% endif %}\n",
        encoding="utf-8")
    result: Any = _report(out, templates, "--jobs", jobs)
    assert result.exit_code == 1, result.output
    assert re.search(r"report-card\.html\.j2:2: error \[template-error\] template problem: "
                     r".*\(TypeError\), rendering report-cards/S004\n", result.output)
    assert _tree(out) == before
    assert sorted(p.name for p in out.rglob("*")) == ["0012345.html", "index.html",
                                                      "report-cards"]


def test_failing_index_template_writes_no_document(tmp_path: Path) -> None:
    out = tmp_path / "new" / "out"
    templates = tmp_path / "district"
    templates.mkdir()
    (templates / "index.html.j2").write_text("{% for g in groups %}\n{{ g.nope }}{% endfor %}\n",
                                             encoding="utf-8")
    result: Any = _report(out, templates)
    assert result.exit_code == 1, result.output
    assert "index.html.j2:2: error [template-error] template problem: 'dict object' has no " \
           "attribute 'nope'" in result.output
    assert not (tmp_path / "new").exists()  # not even the folders it made


def test_good_district_template_still_renders(tmp_path: Path) -> None:
    """The sandbox leaves what templates are for: loops, macros, namespace(), filters,
    building lists without changing the data."""
    templates = tmp_path / "district"
    templates.mkdir()
    (templates / "report-card.html.j2").write_text(
        "{% extends 'base.html.j2' %}{% import 'macros.html.j2' as m %}\n"
        "{% block title %}{{ _('Progress report') }} — {{ student.name }}{% endblock %}\n"
        "{% block content %}{% set ns = namespace(n=0, ids=[]) %}\n"
        "{% for c in courses %}{% set ns.n = ns.n + c.competencies|length %}"
        "{% set ns.ids = ns.ids + [c.id] %}{% endfor %}\n"
        "<p>{{ ns.n }} competencies in {{ ns.ids|join(', ') }}; {{ 2.5|number }}; "
        "{{ '%s-%s'|format('a', 'b') }}; {{ 'x' * 3 }}; {{ 2 ** 10 }}</p>\n"
        "{% endblock %}\n", encoding="utf-8")
    result: Any = _report(tmp_path / "out", templates, "--student", "0012345")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "report-cards" / "0012345.html").read_text(encoding="utf-8")
    assert re.search(r"<p>\d+ competencies in [A-Z][A-Z0-9, ]+; 2.5; a-b; xxx; 1024</p>", html)
    assert "<title>Progress report — Ana García</title>" in html


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_crash_in_one_worker_leaves_no_file(tmp_path: Path, jobs: int) -> None:
    """Not a template problem but a bug (here: building one document's variables fails):
    it propagates, and what the other tasks had written under temporary names is removed."""
    from test_report_render import make_data

    from mastery_cli.reports.render import RenderSettings, plan_documents, render_documents

    data = make_data("en")
    # Workers are fresh processes: the bug travels with the data they are given.
    data.__class__ = _FailingReportData
    documents = plan_documents(data, "report-card")
    with pytest.raises(RuntimeError, match="a bug"):
        render_documents(data, documents, RenderSettings(out=tmp_path / "out"), jobs=jobs)
    assert not (tmp_path / "out").exists()


class _FailingReportData(ReportData):
    """Report data whose first report card fails to build (the others finish after it)."""

    def report_card(self, student_id: str) -> Any:
        if student_id == "0012345":
            raise RuntimeError("a bug")
        time.sleep(0.3)
        return super().report_card(student_id)
