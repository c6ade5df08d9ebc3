"""`mastery report learner`: one document per student with a learner record, en and es."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.reports.pdf import pdf_available

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
runner = CliRunner()


@pytest.fixture(scope="module")
def grades(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("grades")
    result = runner.invoke(app, [
        "grade", *map(str, sorted((EXAMPLES / "gradebook").glob("*.csv"))), "--framework",
        str(EXAMPLES / "framework"), "--policy", str(EXAMPLES / "policy.yaml"), "--out",
        str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    return out


def _report(grades: Path, out: Path, *extra: str, learners: Path = EXAMPLES / "learners"
            ) -> str:
    result = runner.invoke(app, [
        "report", "learner", "--grades", str(grades), "--framework", str(EXAMPLES / "framework"),
        "--learners", str(learners), "--date", "2027-01-29", "--out", str(out), "--quiet",
        *extra])
    assert result.exit_code == 0, result.output
    return result.output


def test_one_document_per_learner_record_in_english(grades: Path, tmp_path: Path) -> None:
    _report(grades, tmp_path)
    written = sorted(p.name for p in (tmp_path / "learners").iterdir())
    assert written == ["0041001.html", "0041021.html", "0041066.html"]
    mateo = (tmp_path / "learners" / "0041001.html").read_text()
    assert "“I want to solve every kind of linear equation by the end of the semester.”" in mateo
    assert "4 of 4 targets mastered." in mateo and "Goal met" in mateo
    assert "1 of 4 targets mastered." in mateo and "Behind plan" in mateo
    assert "by now the plan expects 2.7" in mateo  # 4 x 106/155 days, as explain shows it
    assert 'href="https://portfolio.riverside.example/0041001/bike-speed"' in mateo
    assert "Learner profiles and plans" in (tmp_path / "index.html").read_text()
    hugo = (tmp_path / "learners" / "0041021.html").read_text()
    assert "On pace" in hugo
    assert "Creek macroinvertebrate survey (summer internship)" in hugo
    assert '<span class="outside-tag">internship</span>' in hugo
    # A relative path is shown, never made a link.
    assert "portfolio/0041021/water-argument.pdf" in hugo
    assert 'href="portfolio/' not in hugo


def test_spanish(grades: Path, tmp_path: Path) -> None:
    _report(grades, tmp_path, "--lang", "es")
    mateo = (tmp_path / "learners" / "0041001.html").read_text()
    for text in ("Perfil y plan del estudiante", "Mis metas", "Meta cumplida",
                 "Atrasado respecto al plan", "a estas alturas el plan espera 2.7",
                 "Lo que domino", "Aprendizaje fuera de la escuela"):
        assert text in mateo, text
    assert 'lang="es-US"' in mateo


def test_the_students_words_are_escaped(grades: Path, tmp_path: Path) -> None:
    folder = tmp_path / "learners-in"
    folder.mkdir()
    text = (EXAMPLES / "learners" / "0041001.yaml").read_text().replace(
        "I learn best when", "<script>alert(1)</script> I learn best when")
    (folder / "mateo.yaml").write_text(text)
    _report(grades, tmp_path / "out", learners=folder)
    html = (tmp_path / "out" / "learners" / "0041001.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_learner_needs_learners(grades: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "learner", "--grades", str(grades), "--framework",
                                 str(EXAMPLES / "framework"), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--learners" in result.output


def test_a_record_with_errors_stops_the_run(grades: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "x.yaml").write_text((EXAMPLES / "learners" / "0041001.yaml").read_text()
                                   .replace("MATH.FUN.3", "MATH.FUN.33"))
    result = runner.invoke(app, ["report", "learner", "--grades", str(grades), "--framework",
                                 str(EXAMPLES / "framework"), "--learners", str(folder),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "learner-unknown-target" in result.output
    assert not (tmp_path / "out" / "learners").exists()


@pytest.mark.skipif(not pdf_available() or shutil.which("pdftotext") is None,
                    reason="WeasyPrint or pdftotext is not available")
def test_pdf_reads_as_the_html(grades: Path, tmp_path: Path) -> None:
    _report(grades, tmp_path, "--lang", "es", "--pdf", "--student", "0041066")
    pdf = tmp_path / "learners" / "0041066.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Yusuf" in text and "Mis metas" in text and "Atrasado respecto al plan" in text


def test_report_card_names_the_source_of_outside_evidence(grades: Path, tmp_path: Path) -> None:
    """When grades.json carries an evidence row's source (the new engine's outside evidence),
    the report card says where the learning happened; without one, nothing changes."""
    import json

    document = json.loads((grades / "grades.json").read_text())
    hugo = next(s for s in document["students"] if s["id"] == "0041021")
    target = next(t for t in hugo["targets"] if t["target"] == "SCI.INQ.1")
    target["evidence"][0]["source"] = "internship"
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "grades.json").write_text(json.dumps(document))
    for folder, lang, sentence in ((tmp_path / "g", "en", "Includes work from outside this school: "
                                    "internship"), (grades, "en", "")):
        result = runner.invoke(app, ["report", "report-card", "--grades", str(folder),
                                     "--framework", str(EXAMPLES / "framework"), "--student",
                                     "0041021", "--lang", lang, "--out",
                                     str(tmp_path / f"out-{bool(sentence)}"), "--quiet"])
        assert result.exit_code == 0, result.output
        html = (tmp_path / f"out-{bool(sentence)}" / "report-cards" / "0041021.html").read_text()
        if sentence:
            assert html.count(sentence) == 1
        else:
            assert "Includes work from outside this school" not in html
