"""The example school's report cards as PDF, as a school prints them: length, headings that
never end a page, alternative text on every chart, whole sheets per student with --combine,
one section with --section. Skipped where WeasyPrint or pikepdf cannot be imported."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

pytest.importorskip("weasyprint")
pikepdf = pytest.importorskip("pikepdf")
# Every example card as PDF: a minute or two on two cores.
pytestmark = pytest.mark.slow

from test_report_pdf import page_text  # noqa: E402
from test_report_print import EXAMPLES, graded, report  # noqa: E402, F401

from mastery_cli.framework.model import Framework  # noqa: E402
from mastery_cli.validation import load_framework  # noqa: E402


@pytest.fixture(scope="module")
def cards(graded: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """Every example card as PDF, in English (the longer Spanish ones: make demo-pdf)."""
    out = tmp_path_factory.mktemp("cards")
    report(graded, out, "report-card", "en", "--pdf")
    return out / "report-cards"


def pages_of(path: Path) -> int:
    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def figures(path: Path) -> list[str | None]:
    """The /Alt of every Figure in the PDF's structure tree (None where it has none)."""
    found: list[str | None] = []
    with pikepdf.open(path) as pdf:
        stack = [pdf.Root.StructTreeRoot]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Array):
                stack.extend(node)
            elif isinstance(node, pikepdf.Dictionary):
                if node.get("/S") == "/Figure":
                    alt = node.get("/Alt")
                    found.append(None if alt is None else str(alt))
                kids = node.get("/K")
                if kids is not None:
                    stack.append(kids)
    return found


def test_example_cards_fit_one_duplex_sheet_mostly(cards: Path) -> None:
    counts = {path.stem: pages_of(path) for path in cards.glob("*.pdf")}
    assert len(counts) == 66
    assert statistics.median(counts.values()) <= 2, sorted(counts.values())
    assert max(counts.values()) <= 3, {k: v for k, v in counts.items() if v > 3}


def headings(framework: Framework) -> list[str]:
    titles = [framework.text(c.title, "en") for c in framework.competencies.values()]
    titles += [framework.text(c.title, "en") for c in framework.courses.values()]
    return [t for t in titles if t] + ["Habits of work", "Next steps", "How to read this report"]


def test_headings_never_end_a_page(cards: Path) -> None:
    framework, _ = load_framework(EXAMPLES / "framework")
    titles = headings(framework)
    for path in sorted(cards.glob("*.pdf"))[:12]:
        pages = page_text(path.read_bytes()).split("\f")
        for number, page in enumerate(pages[:-1], start=1):
            lines = [line.strip() for line in page.splitlines() if line.strip()]
            body = [line for line in lines if "Page " not in line]  # the running footer
            if not body:
                continue
            last = body[-1]
            assert not any(last.startswith(t) for t in titles), (path.name, number, last)


def test_every_chart_figure_has_alternative_text(cards: Path) -> None:
    for path in sorted(cards.glob("*.pdf"))[:6]:
        html = path.with_suffix(".html").read_text(encoding="utf-8")
        alts = figures(path)
        assert len(alts) == html.count('<svg class="spark"') > 0
        assert all(alt and alt.startswith("Scores, oldest first: ") and
                   alt.endswith("The dashed line is the goal.") for alt in alts), alts
        # The description is alternative text only: no hidden text drawn on the page, cut
        # off or out of order in what a PDF reader copies.
        text = page_text(path.read_bytes())
        assert "Scores, oldest first" not in text
        assert "Charts: the dashed line is the goal" in text  # the legend, once
    assert any("1 (Aug 27, 2026, Diagnostic: number and algebra); " in (alt or "")
               for alt in figures(cards / "0041001.pdf"))


def test_combine_pads_each_student_to_whole_sheets_and_section_is_one_section(
    graded: Path, cards: Path, tmp_path: Path  # noqa: F811
) -> None:
    """Students of ALG1-P1 (some also in a Biology section): one PDF, ALG1-P1's alone; each
    student starts on a new sheet, and the PDF is each card padded to an even page count."""
    grades = json.loads((graded / "grades.json").read_text(encoding="utf-8"))
    section = [s["id"] for s in grades["students"] if "ALG1-P1" in s["sections"]]
    odd = [s for s in section if pages_of(cards / f"{s}.pdf") % 2]
    even = [s for s in section if s not in odd]
    if not odd:
        pytest.skip("every ALG1-P1 card has an even page count: nothing to pad")
    chosen = [odd[0], *even[:1], *odd[1:2]]
    report(graded, tmp_path, "report-card", "en", "--pdf", "--combine", "--section", "ALG1-P1",
           *[arg for student in chosen for arg in ("--student", student)])
    combined = sorted(p.name for p in (tmp_path / "report-cards").glob("*.pdf"))
    assert combined == ["section-ALG1-P1.pdf"]
    pdf = tmp_path / "report-cards" / "section-ALG1-P1.pdf"
    single = [pages_of(cards / f"{student}.pdf") for student in chosen]
    assert pages_of(pdf) == sum(n + n % 2 for n in single)
    pages = page_text(pdf.read_bytes()).split("\f")[:-1]
    starts = [i for i, page in enumerate(pages) if "Page 1 of" in page]
    assert len(starts) == len(chosen) and all(i % 2 == 0 for i in starts), starts
