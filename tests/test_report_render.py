"""Rendering report documents: every kind in every language, golden files, escaping,
accessibility, colour contrast, determinism, safe file names and template overrides."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastery_cli.diagnostics import MasteryError
from mastery_cli.reports import (
    KINDS,
    RenderSettings,
    ReportData,
    ReportOptions,
    language_warnings,
    plan_documents,
    render_documents,
    write_index,
)
from mastery_cli.reports.comments import read_comments
from mastery_cli.reports.environment import make_environment
from mastery_cli.reports.i18n import parse_language
from mastery_cli.reports.render import _unique_names, render_html
from mastery_cli.resources import templates_dir
from mastery_cli.validation import load_framework

DATA = Path(__file__).parent / "data" / "report"
GOLDEN = Path(__file__).parent / "golden" / "report"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
LANGS = ("en", "es")
REPORT_DATE = date(2025, 12, 19)


def make_data(lang: str = "en") -> ReportData:
    framework, _ = load_framework(DATA / "framework")
    grades = json.loads((DATA / "grades" / "grades.json").read_text(encoding="utf-8"))
    language, locale = parse_language(lang)
    known = [*framework.targets, *framework.competencies, *framework.courses]
    comments, _ = read_comments(DATA / "comments.csv", known)
    options = ReportOptions(language, locale, REPORT_DATE, term="Fall 2025", html_lang=lang)
    return ReportData(grades, framework, options, comments)


@pytest.fixture(scope="module", params=LANGS)
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[str, Path]:
    """Every kind rendered into one folder per language (in-process)."""
    lang = request.param
    data = make_data(lang)
    out = tmp_path_factory.mktemp(f"reports-{lang}")
    settings = RenderSettings(out=out)
    for kind in KINDS:
        render_documents(data, plan_documents(data, kind), settings, jobs=1)
    write_index(data, settings)
    return lang, out


def html_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


class Outline(HTMLParser):
    """Collects what the accessibility checks need from one HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.title = ""
        self.headings: list[int] = []
        self.tables = 0
        self.captions = 0
        self.th_without_scope = 0
        self.scripts = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        elif tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "th" and attributes.get("scope") not in ("col", "row", "rowgroup"):
            self.th_without_scope += 1
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def outline(path: Path) -> Outline:
    parser = Outline()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


# -- every kind, every language ------------------------------------------------------------


def test_every_kind_is_written(rendered: tuple[str, Path]) -> None:
    _, out = rendered
    names = {p.relative_to(out).as_posix() for p in html_files(out)}
    assert {
        "index.html",
        "report-cards/0012345.html", "report-cards/S002.html", "report-cards/S004.html",
        "report-cards/etc-passwd.html",
        "transcripts/0012345.html", "transcripts/etc-passwd.html",
        "i-can/ALG1.html", "i-can/WATER.html",
        "class-summaries/ALG1-P2.html", "class-summaries/WATER-A.html",
    } <= names


def test_documents_are_accessible(rendered: tuple[str, Path]) -> None:
    lang, out = rendered
    for path in html_files(out):
        doc = outline(path)
        assert doc.lang == lang, path
        assert doc.title.strip(), path
        assert doc.headings and doc.headings[0] == 1, path
        assert doc.headings.count(1) == 1, path
        for before, after in zip(doc.headings, doc.headings[1:], strict=False):
            assert after <= before + 1, f"{path}: heading h{after} after h{before}"
        assert doc.captions == doc.tables, f"{path}: a table without a caption"
        assert doc.th_without_scope == 0, f"{path}: th without scope"


def test_student_names_are_escaped(rendered: tuple[str, Path]) -> None:
    _, out = rendered
    for path in html_files(out):
        text = path.read_text(encoding="utf-8")
        assert "<script>" not in text, path
        assert outline(path).scripts == 0
    card = (out / "report-cards" / "S002.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card
    # the teacher comment with markup is text, not HTML
    assert "&lt;b&gt;please&lt;/b&gt;" in card


def test_no_file_outside_out(rendered: tuple[str, Path]) -> None:
    _, out = rendered
    for path in out.rglob("*"):
        assert out.resolve() in path.resolve().parents
    assert not (out.parent / "etc").exists()


def test_report_card_content_en() -> None:
    data = make_data("en")
    env = make_environment("en", data.options.locale)
    [doc] = plan_documents(data, "report-card", students=["0012345"])
    html = render_html(env, data, doc)
    assert "<title>Progress report — Ana García</title>" in html
    assert "<b>3</b> — Proficient" in html  # number and label
    # What the work looks like now, for a target below the goal; at the goal the label says it.
    assert "Solves two-step equations." in html
    assert "Uses units consistently through multi-step problems." not in html
    assert "On track" in html and "Not yet" in html
    assert "Habits of work" in html and "<b>2</b> — Sometimes" in html
    assert "I can solve a system of two equations and check the solution." in html  # next step
    assert "Ana keeps her lab team on task." in html  # comment on a competency
    assert "each new score counts 65%" in html  # how levels are calculated
    assert "December 19, 2025" in html
    assert "2 → 3 → 3 → 4" in html  # scores as text next to the chart
    # The chart's alternative text: every score with its date, and what the dashed line is.
    assert re.search(r'<svg class="spark"[^>]*role="img"><title>Scores, oldest first: 2 \(', html)
    assert "The dashed line is the goal.</title>" in html
    assert "Charts: the dashed line is the goal" in html  # the legend, once
    assert html.count("Charts: the dashed line") == 1


def test_insufficient_and_not_assessed_marks() -> None:
    data = make_data("es")
    env = make_environment("es", data.options.locale)
    [doc] = plan_documents(data, "report-card", students=["S004"])
    html = render_html(env, data, doc)
    assert "Evidencia insuficiente" in html
    assert "Todavía no evaluado" in html
    assert "Boleta de calificaciones" in html
    assert "19 de diciembre de 2025" in html
    assert "Zoë Ñúñez" in html
    assert "Próximo paso:" in html


def test_spanish_uses_framework_spanish_and_falls_back() -> None:
    data = make_data("es")
    card = data.report_card("0012345")
    titles = [t["title"] for c in card["courses"][0]["competencies"] for t in c["targets"]]
    assert "Razonamiento con unidades" in titles
    assert "Measurement and precision" in titles  # no Spanish title: the default language
    [warning] = language_warnings(data)
    assert warning.code == "missing-translation"
    assert "MATH.NQ.2 title" in warning.message
    assert language_warnings(make_data("en")) == []


def test_personalised_i_can_ticks_mastered_targets(tmp_path: Path) -> None:
    data = make_data("en")
    docs = plan_documents(data, "i-can", students=["0012345"])
    assert [d.name for d in docs] == ["i-can/0012345/ALG1", "i-can/0012345/WATER"]
    env = make_environment("en", data.options.locale)
    html = render_html(env, data, docs[0])
    assert "Ana García has mastered 4 of these 7 learning targets" in html
    assert html.count("— Mastered") == 4


def test_class_summary_grid_counts_and_ready() -> None:
    data = make_data("en")
    summary = data.class_summary("ALG1-P2", list(data.students))
    academic = summary["groups"][0]
    assert [t["id"] for t in academic["targets"]] == [
        "MATH.NQ.1", "MATH.NQ.2", "MATH.ALG.1", "MATH.ALG.2", "MATH.ALG.3"]
    level_3 = next(r for r in academic["count_rows"] if r["level"]["text"] == "3")
    assert level_3["counts"] == [2, 1, 2, 1, 1]
    assert academic["no_level_counts"] == [0, 1, 0, 1, 1]
    assert summary["groups"][1]["efficacy"] is True
    assert {r["student"]["id"] for r in summary["ready"] if r["ready"]} == {
        "0012345", "S002", "S004"}


def test_class_summary_ready_lists_finished_progressions_of_the_section() -> None:
    """A student who has mastered a whole progression is ready with no next target: listed
    (the rows of progress.csv marked ready, every one); a section whose targets the
    progression does not touch (WATER-A is science) does not list it."""
    data = make_data("en")
    finished = data.students["S002"]
    finished["progress"] = [{"progression": "MATH.PROG.EQUATIONS",
                             "mastered": ["MATH.ALG.1", "MATH.ALG.2", "MATH.ALG.3"],
                             "ready_to_advance": True, "next_target": None}]
    summary = data.class_summary("ALG1-P2", list(data.students))
    ready = {r["student"]["id"]: r for r in summary["ready"] if r["ready"]}
    assert sorted(ready) == ["0012345", "S002", "S004"]
    assert ready["S002"]["finished"] and ready["S002"]["target"] == ""
    assert not ready["S004"]["finished"] and ready["S004"]["target"] == "MATH.ALG.2"
    assert data.class_summary("WATER-A", ["0012345", "S004"])["ready"] == []
    env = make_environment("en", data.options.locale)
    html = env.get_template("class-summary.html.j2").render(summary)
    assert "Every target of the progression mastered" in html
    # The report card has no next step for a finished progression.
    assert data.report_card("S002")["next_steps"] == []


def test_transcript_credits_and_profile() -> None:
    data = make_data("en")
    transcript = data.transcript("0012345")
    assert [c["id"] for c in transcript["courses"]] == ["ALG1", "WATER"]
    assert transcript["credits_earned"] == "1.5"
    assert transcript["profile"]["scales"][0]["id"] == "academic"
    html = render_html(make_environment("en", data.options.locale), data,
                       plan_documents(data, "transcript", students=["0012345"])[0])
    assert "School profile: how grades work" in html
    assert "the average of the competency levels, rounded down" in html


# -- golden files ---------------------------------------------------------------------------

GOLDEN_CASES = [
    ("report-card", "en", "0012345"),
    ("report-card", "es", "S004"),
    ("transcript", "en", "0012345"),
    ("i-can", "es", "ALG1"),
    ("class-summary", "en", "ALG1-P2"),
]


@pytest.mark.parametrize(("kind", "lang", "key"), GOLDEN_CASES)
def test_golden_html(kind: str, lang: str, key: str) -> None:
    data = make_data(lang)
    env = make_environment(lang, data.options.locale)
    [document] = [d for d in plan_documents(data, kind) if d.key == key]
    html = render_html(env, data, document)
    golden = GOLDEN / f"{kind}-{lang}-{key}.html"
    if UPDATE or not golden.exists():
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8"), (
        f"{golden.name} changed; look at the difference and rerun with UPDATE_GOLDEN=1"
    )


def test_identical_inputs_give_identical_bytes(tmp_path: Path) -> None:
    outputs = []
    for run, jobs in enumerate((1, 2)):
        data = make_data("es")
        settings = RenderSettings(out=tmp_path / str(run))
        render_documents(data, plan_documents(data, "report-card"), settings, jobs=jobs)
        write_index(data, settings)
        outputs.append({p.relative_to(settings.out): p.read_bytes()
                        for p in html_files(settings.out)})
    assert outputs[0] == outputs[1]


def test_parallel_rendering_reports_progress(tmp_path: Path) -> None:
    data = make_data("en")
    calls: list[tuple[int, int]] = []
    documents = plan_documents(data, "transcript")
    result = render_documents(data, documents, RenderSettings(out=tmp_path), jobs=2,
                              progress=lambda done, total: calls.append((done, total)))
    assert len([p for p in result.written if p.suffix == ".html"]) == len(documents)
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1]


# -- colour contrast -----------------------------------------------------------------------


def _luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    channels = [int(colour[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_every_text_colour_has_contrast() -> None:
    css = (templates_dir() / "report.css").read_text(encoding="utf-8")
    css += (templates_dir() / "page.css.j2").read_text(encoding="utf-8")
    variables = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})", css))

    def resolve(value: str) -> str:
        value = value.strip()
        match = re.fullmatch(r"var\((--[\w-]+)\)", value)
        return variables[match.group(1)] if match else value

    paper = variables["--paper"]
    backgrounds = {paper, variables["--band"]}
    checked = 0
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = dict(re.findall(r"(?:^|;)\s*([\w-]+)\s*:\s*([^;]+)", body))
        if "color" not in declarations or "currentColor" in declarations["color"]:
            continue
        foreground = resolve(declarations["color"])
        if not foreground.startswith("#"):
            continue
        if "background" in declarations:
            pairs = [(foreground, resolve(declarations["background"]))]
        else:  # text on the page or on the guide band
            pairs = [(foreground, b) for b in backgrounds]
        for fg, bg in pairs:
            assert contrast(fg, bg) >= 4.5, f"{selector.strip()}: {fg} on {bg}"
            checked += 1
    assert checked >= 10
    from mastery_cli.reports.charts import GOAL, INK
    for colour in (INK, GOAL):  # the chart's lines, for a non-text 3:1 at least
        assert contrast(colour, paper) >= 4.5


# -- file names -----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=8, unique=True))
def test_file_names_are_safe_and_distinct(ids: list[str]) -> None:
    names = _unique_names(ids)
    assert len({n.lower() for n in names.values()}) == len(ids)
    for name in names.values():
        assert "/" not in name and "\\" not in name
        assert not name.startswith(".")
        assert name not in ("", ".", "..")


# -- templates ------------------------------------------------------------------------------


def test_override_template_by_name(tmp_path: Path) -> None:
    override = tmp_path / "district"
    override.mkdir()
    (override / "report.css").write_text("body { color: #000000; } /* district */\n")
    data = make_data("en")
    env = make_environment("en", data.options.locale, override=override)
    html = render_html(env, data, plan_documents(data, "report-card")[0])
    assert "/* district */" in html


def test_typo_in_custom_template_names_template_and_line(tmp_path: Path) -> None:
    override = tmp_path / "district"
    override.mkdir()
    bundled = (templates_dir() / "transcript.html.j2").read_text(encoding="utf-8")
    broken = bundled.replace("{{ term.credits_earned }}", "{{ credits_earnd }}")
    (override / "transcript.html.j2").write_text(broken, encoding="utf-8")
    line = broken.splitlines().index(
        next(x for x in broken.splitlines() if "credits_earnd" in x)) + 1
    data = make_data("en")
    with pytest.raises(MasteryError) as caught:
        render_documents(data, plan_documents(data, "transcript")[:1],
                         RenderSettings(out=tmp_path / "out", templates=override), jobs=1)
    [problem] = caught.value.diagnostics
    assert problem.path.endswith("transcript.html.j2")
    assert problem.line == line
    assert "credits_earnd" in problem.message


def test_syntax_error_in_custom_template(tmp_path: Path) -> None:
    override = tmp_path / "district"
    override.mkdir()
    (override / "i-can.html.j2").write_text("line one\n{% if %}\n", encoding="utf-8")
    data = make_data("en")
    with pytest.raises(MasteryError) as caught:
        render_documents(data, plan_documents(data, "i-can")[:1],
                         RenderSettings(out=tmp_path / "out", templates=override), jobs=1)
    [problem] = caught.value.diagnostics
    assert problem.code == "template-syntax"
    assert problem.path.endswith("i-can.html.j2") and problem.line == 2


def test_autoescape_covers_every_template_extension() -> None:
    from mastery_cli.reports.environment import autoescape_for

    for name in ("a.html", "a.html.j2", "a.j2", "a.htm", "a.svg"):
        assert autoescape_for(name)
    assert not autoescape_for("report.css")


def test_unknown_student_and_section_are_usage_errors() -> None:
    data = make_data("en")
    with pytest.raises(MasteryError) as caught:
        plan_documents(data, "report-card", students=["nobody"])
    assert caught.value.usage and caught.value.diagnostics[0].code == "unknown-student"
    with pytest.raises(MasteryError) as caught:
        plan_documents(data, "report-card", section="Z9")
    assert caught.value.diagnostics[0].code == "unknown-section"


def test_section_filter() -> None:
    data = make_data("en")
    docs = plan_documents(data, "report-card", section="WATER-A")
    assert [d.key for d in docs] == ["0012345", "S004"]
    assert [d.key for d in plan_documents(data, "class-summary", section="WATER-A")] == [
        "WATER-A"]
    assert [d.key for d in plan_documents(data, "class-summary", students=["S002"])] == [
        "ALG1-P2"]


def test_report_without_course_results_groups_all_targets() -> None:
    data = make_data("en")
    grades = json.loads(json.dumps(data.grades))
    for student in grades["students"]:
        student["courses"] = []
    bare = ReportData(grades, data.framework, data.options)
    card = bare.report_card("0012345")
    assert len(card["courses"]) == 1 and card["courses"][0]["title"] == ""
    assert {c["id"] for c in card["courses"][0]["competencies"]} == {"MATH.NQ", "MATH.ALG"}
    assert [c["id"] for c in card["efficacy"]] == ["HAB.COL"]


def test_comments_csv_warns_about_unknown_ids() -> None:
    framework, _ = load_framework(DATA / "framework")
    known = [*framework.targets, *framework.competencies, *framework.courses]
    comments, problems = read_comments(DATA / "comments.csv", known)
    [problem] = problems
    assert (problem.code, problem.line, problem.column) == ("unknown-reference", 7, 2)
    assert "This row names an unknown target." in comments.for_student("S004")
