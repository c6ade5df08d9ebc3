"""What a school prints for the example school: report cards that say why each course grade is
what it is, class summaries sorted by surname with a column per competency and a list of who
needs help on what. (The PDFs themselves: test_report_print_pdf.py.)"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mastery_cli.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
WHY = {"en": "Why {grade}:", "es": "Por qué {grade}:"}


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


def report(graded: Path, out: Path, kind: str, lang: str, *extra: str) -> None:
    result = CliRunner().invoke(app, [
        "report", kind, "--grades", str(graded), "--framework", str(EXAMPLES / "framework"),
        "--out", str(out), "--lang", lang, "--date", "2027-01-29",
        "--roster", str(EXAMPLES / "roster.csv"), "--quiet", *extra,
    ])
    assert result.exit_code == 0, result.output


def text_of(path: Path) -> str:
    """The document's text without tags, entities decoded, spaces folded."""
    markup = re.sub(r"<style.*?</style>|<title.*?</title>", " ",
                    path.read_text(encoding="utf-8"), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_card_says_why_each_course_grade(graded: Path, tmp_path: Path, lang: str
                                               ) -> None:
    """The rule that decided each course grade, worded as the policy file words it in the
    family's language, on every card (the oracle: policy.yaml and grades.json, not the
    report code)."""
    report(graded, tmp_path, "report-card", lang)
    policy = yaml.safe_load((EXAMPLES / "policy.yaml").read_text(encoding="utf-8"))
    reasons = {str(rule["grade"]): rule["description"].get(lang, rule["description"]["en"])
               for rule in policy["course_grade"]["rules"]}
    grades = json.loads((graded / "grades.json").read_text(encoding="utf-8"))
    checked = 0
    for student in grades["students"]:
        text = text_of(tmp_path / "report-cards" / f"{student['id']}.html")
        for course in student["courses"]:
            if course.get("grade") is None:
                continue
            grade = str(course["grade"])
            why = WHY[lang].format(grade=grade) + " " + " ".join(reasons[grade].split())
            assert why in text, (student["id"], course["course"], why)
            checked += 1
    assert checked >= 66


def surname(name: str) -> str:
    return name.split(",")[0].strip()


def test_class_summary_by_surname_with_competencies_and_who_needs_help(
    graded: Path, tmp_path: Path
) -> None:
    report(graded, tmp_path, "class-summary", "en", "--section", "ALG1-P1")
    page = (tmp_path / "class-summaries" / "ALG1-P1.html").read_text(encoding="utf-8")
    grades = json.loads((graded / "grades.json").read_text(encoding="utf-8"))
    section = [s for s in grades["students"] if "ALG1-P1" in s["sections"]]
    grid = page[page.index('<table class="grid">'):page.index("</table>")]
    rows = re.findall(r'<th scope="row">([^<]+)</th>', grid.split('<tbody class="counts">')[0])
    names = [html.unescape(r) for r in rows]
    assert sorted(names) == sorted(s["name"] for s in section)
    import unicodedata

    def folded(text: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                       if not unicodedata.combining(c))

    assert names == sorted(names, key=lambda n: (folded(surname(n)), folded(n)))
    # A column per competency as well as per target: Algebra I's three competencies.
    header = grid[:grid.index("</thead>")]
    for competency in ("MATH.<wbr>NQ", "MATH.<wbr>ALG", "MATH.<wbr>FUN"):
        assert f'class="competency-col"><b>{competency}</b>' in header
    # Who needs help on what: per target, exactly the students with a level below 3 (the
    # goal of both example scales), from grades.json.
    help_part = page[page.index("Who needs help on what"):page.index("Ready to advance")]
    listed: dict[str, set[str]] = {}
    for target_id, cell in re.findall(
            r'<tr><th scope="row"><b>([^<]+)</b>.*?</th>\s*<td>(.*?)</td></tr>', help_part,
            re.S):
        listed[target_id] = {html.unescape(n).strip() for n in
                             re.findall(r'<span class="who">([^<]+)<', cell)}
    expected: dict[str, set[str]] = {}
    for student in section:
        for result in student["targets"]:
            if result.get("status", "ok") == "ok" and result.get("level") is not None \
                    and result["level"] < 3:
                expected.setdefault(result["target"], set()).add(student["name"])
    algebra_targets = {t for t in expected if not t.startswith("SCI.")}
    assert {t: listed.get(t, set()) for t in algebra_targets} == {
        t: expected[t] for t in algebra_targets}


def test_surname_order_for_both_ways_of_writing_names() -> None:
    from mastery_cli.reports.context import surname_key

    names = ["Zoë Ñúñez", "López, Owen", "Ana García", "Lopez, Ana", "Cher"]
    assert sorted(names, key=surname_key) == [
        "Cher", "Ana García", "Lopez, Ana", "López, Owen", "Zoë Ñúñez"]
