"""`mastery explain --for family`: plain sentences in the family's language, no internal codes,
and the same numbers as the report card."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.reports import ReportData, ReportOptions
from mastery_cli.reports.family_explain import display_name, tidy
from mastery_cli.reports.i18n import parse_language, with_region
from mastery_cli.validation import load_framework

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GRADEBOOK = sorted(str(p) for p in (EXAMPLES / "gradebook").glob("*.csv"))
STUDENT = "0041066"  # Yusuf Demir: transfer evidence, excused and practice work set aside
runner = CliRunner()

#: What a teacher's explanation shows and a family's must not: reason codes, file:row
#: places, ids, the raw "score -" of an excused row.
INTERNAL = re.compile(r"\[[a-z-]+;|\.csv|:\d+\]|\b(?:MATH|SCI|HAB)\.[A-Z]|score -|"
                      r"type-excluded|insufficient-evidence|not-assessed|decaying_average")


def explain(subject: str, *extra: str, student: str = STUDENT) -> str:
    result = runner.invoke(app, [
        "explain", student, subject, *GRADEBOOK, "--framework", str(EXAMPLES / "framework"),
        "--policy", str(EXAMPLES / "policy.yaml"), "--for", "family", *extra],
        env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return str(result.stdout)


@pytest.fixture(scope="module")
def card_es(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The student's report card context in Spanish, from `mastery grade --format json`."""
    out = tmp_path_factory.mktemp("grades")
    graded = runner.invoke(app, ["grade", *GRADEBOOK, "--framework",
                                 str(EXAMPLES / "framework"), "--policy",
                                 str(EXAMPLES / "policy.yaml"), "--format", "json",
                                 "--out", str(out)])
    assert graded.exit_code == 0, graded.output
    framework, _ = load_framework(EXAMPLES / "framework")
    language, locale = parse_language("es")
    locale = with_region(language, locale, framework.region)
    grades = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    return ReportData(grades, framework, ReportOptions(language, locale, date(2027, 1, 29))
                      ).report_card(STUDENT)


@pytest.mark.parametrize("subject", ["MATH.ALG.1", "MATH.ALG", "ALG1", "HAB.COL.1"])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_family_text_has_no_internal_codes(subject: str, lang: str) -> None:
    text = explain(subject, "--lang", lang)
    assert not INTERNAL.search(text), INTERNAL.search(text)
    assert text.startswith("Yusuf Demir: ")
    assert all(len(line) <= 88 for line in text.splitlines())


def test_teacher_view_stays_as_it_was() -> None:
    result = runner.invoke(app, [
        "explain", STUDENT, "MATH.ALG.1", *GRADEBOOK, "--framework",
        str(EXAMPLES / "framework"), "--policy", str(EXAMPLES / "policy.yaml")])
    assert result.exit_code == 0
    assert INTERNAL.search(result.stdout)  # the codes are what a teacher needs


def test_course_numbers_are_the_report_cards(card_es: dict[str, Any]) -> None:
    text = explain("ALG1", "--lang", "es")
    [course] = [c for c in card_es["courses"] if c["id"] == "ALG1"]
    assert f"Calificación del curso: {course['grade']['text']}." in text
    assert f"Puntuación combinada: {course['grade']['score']}." in text
    for competency in course["competencies"]:
        level = competency["level"]
        assert (f"  - {competency['title']}: {level['text']} — {level['label']} "
                f"(puntuación {competency['score']})") in text
    # es-US: the framework's families are in the US, so a decimal point (2.41, not 2,41).
    assert re.search(r"Puntuación combinada: \d\.\d", text)


def test_target_numbers_are_the_report_cards(card_es: dict[str, Any]) -> None:
    text = explain("MATH.ALG.2", "--lang", "es")
    [target] = [t for c in card_es["courses"] for comp in c["competencies"]
                for t in comp["targets"] if t["id"] == "MATH.ALG.2"]
    assert (f"Nivel: {target['level']['text']} — {target['level']['label']} (puntuación "
            f"{target['score']}).") in text
    for piece in target["evidence"]:
        assert f"{piece['date']} · {piece['assessment']}: {piece['score']}" in text


def test_set_aside_work_says_why_in_words() -> None:
    # Mateo Patel's MATH.ALG.1: an excused diagnostic, practice and missing work.
    text = explain("MATH.ALG.1", student="0041001")
    assert "Work that did not count, and why:" in text
    flat = " ".join(text.split())  # long lines are wrapped
    assert "Diagnostic: number and algebra: excused" in flat
    assert ": practice: it gives feedback and does not count toward the level" in flat
    assert ": missing work, which the grading policy leaves out" in flat


def test_plurals_follow_the_count() -> None:
    text = explain("MATH.ALG.2")
    counted = re.search(r"The work that counted \((\d+) (piece|pieces)\)", text)
    assert counted is not None
    assert counted.group(2) == ("piece" if counted.group(1) == "1" else "pieces")


def test_teacher_view_is_english_only() -> None:
    result = runner.invoke(app, [
        "explain", STUDENT, "ALG1", *GRADEBOOK, "--framework", str(EXAMPLES / "framework"),
        "--lang", "es"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "--for family" in result.output


def test_display_name_and_tidy() -> None:
    assert display_name("Patel, Mateo") == "Mateo Patel"
    assert display_name("Mateo Patel") == "Mateo Patel"
    assert display_name("Cher,") == "Cher,"
    assert tidy("a\n\n\nb\n  - x\n\n  - y\n\nc\n") == "a\n\nb\n  - x\n  - y\n\nc\n"
