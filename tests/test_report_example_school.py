"""The example school, graded and reported end to end through the CLI, as `make demo` does."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("grades")
    files = sorted(str(p) for p in (EXAMPLES / "gradebook").glob("*.csv"))
    result = CliRunner().invoke(app, [
        "grade", *files, "--framework", str(EXAMPLES / "framework"),
        "--policy", str(EXAMPLES / "policy.yaml"), "--out", str(out), "--format", "json", "-q",
    ])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("lang", ["en", "es"])
def test_transcript_is_grades_plus_a_one_page_school_profile(
    graded: Path, tmp_path: Path, lang: str
) -> None:
    pytest.importorskip("weasyprint")
    from test_report_pdf import page_count

    result = CliRunner().invoke(app, [
        "report", "transcript", "--grades", str(graded),
        "--framework", str(EXAMPLES / "framework"), "--policy", str(EXAMPLES / "policy.yaml"),
        "--out", str(tmp_path), "--lang", lang, "--date", "2027-01-29", "--pdf",
        "--student", "0041001", "--quiet",
    ])
    assert result.exit_code == 0, result.output
    pdf = (tmp_path / "transcripts" / "0041001.pdf").read_bytes()
    assert page_count(pdf) == 2


@pytest.mark.parametrize("kind", ["report-card", "transcript", "i-can", "class-summary"])
def test_every_kind_renders_for_the_example_school(graded: Path, tmp_path: Path, kind: str) -> None:
    result = CliRunner().invoke(app, [
        "report", kind, "--grades", str(graded), "--framework", str(EXAMPLES / "framework"),
        "--policy", str(EXAMPLES / "policy.yaml"), "--out", str(tmp_path), "--lang", "es",
        "--date", "2027-01-29", "--quiet",
    ])
    assert result.exit_code == 0, result.output
    pages = list(tmp_path.rglob("*.html"))
    assert len(pages) > 1 and (tmp_path / "index.html").exists()
    for page in pages:
        text = page.read_text(encoding="utf-8")
        # The framework's families are in the US (region: US): es-US, numbers with a point.
        assert '<html lang="es-US"' in text
        assert not re.search(r"puntuación \d+,\d", text)
    if kind == "transcript":  # course scores: 2.56, never 2,56
        assert any(re.search(r"puntuación \d\.\d", p.read_text(encoding="utf-8"))
                   for p in pages)


def test_reporting_from_csv_checks_the_policy_like_grade(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "kind: policy\nschema_version: 1\nid: p\nframework: riverside-hs\n"
        "method: {name: decaying_average, weight: 65}\n", encoding="utf-8")
    result = CliRunner().invoke(app, [
        "report", "report-card", str(EXAMPLES / "gradebook" / "algebra1_fall.csv"),
        "--framework", str(EXAMPLES / "framework"), "--policy", str(policy),
        "--out", str(tmp_path / "out"), "--quiet",
    ])
    assert result.exit_code == 1
    assert "weight" in result.output and "0.65" in result.output
    assert not (tmp_path / "out").exists()


def test_report_from_csv_takes_canvas_outcomes(tmp_path: Path) -> None:
    canvas = EXAMPLES / "gradebook" / "geometry_canvas_outcome_results.csv"
    result = CliRunner().invoke(app, [
        "report", "report-card", str(canvas),
        "--framework", str(EXAMPLES / "framework"), "--canvas-outcomes",
        str(tmp_path / "missing.csv"), "--out", str(tmp_path / "out"), "--quiet",
    ])
    assert result.exit_code == 1
    assert "missing.csv" in result.output


def _ready_rows(page: str) -> list[tuple[str, str, str]]:
    """(student, progression, next target) of each row of a class summary's "Ready to advance"
    table."""
    section = page.split("Ready to advance</h2>", 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>',
                      section, flags=re.S)
    return [(html.unescape(a), html.unescape(b), html.unescape(re.sub("<[^>]+>", "", c)).strip())
            for a, b, c in rows]


def test_class_summaries_list_every_student_progress_csv_marks_ready(
    graded: Path, tmp_path: Path
) -> None:
    """Every (student, progression) that progress.csv marks ready is in the class summary of
    a section of that student's whose targets the progression shares, and nothing else is;
    the example school's ready students have all finished their progression."""
    result = CliRunner().invoke(app, [
        "report", "class-summary", "--grades", str(graded),
        "--framework", str(EXAMPLES / "framework"), "--out", str(tmp_path),
        "--date", "2027-01-29", "--quiet",
    ])
    assert result.exit_code == 0, result.output
    with (graded / "progress.csv").open(encoding="utf-8", newline="") as handle:
        progress = list(csv.DictReader(handle))
    titles = {"MATH.PROG.EQUATIONS": "From expressions to systems",
              "MATH.PROG.GEOMETRY": "From rigid motions to trigonometry"}
    expected = sorted((row["student_name"], titles[row["progression"]])
                      for row in progress if row["ready_to_advance"] == "true")
    assert len(expected) == 19  # the example school has some: the check is not vacuous
    listed = []
    for page in sorted((tmp_path / "class-summaries").glob("*.html")):
        for student, progression, next_target in _ready_rows(page.read_text(encoding="utf-8")):
            listed.append((student, progression))
            assert next_target == "Every target of the progression mastered"
    assert sorted(listed) == expected
