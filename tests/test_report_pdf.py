"""PDF output (skipped where WeasyPrint cannot be imported): text, pages, tagging, language."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import pytest

pytest.importorskip("weasyprint")

from test_report_render import make_data

from mastery_cli.reports import RenderSettings, plan_documents, render_documents


def pdf_objects(data: bytes) -> bytes:
    """The PDF with every Flate stream inflated, so object names and text can be searched."""
    parts = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


def page_count(data: bytes) -> int:
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b.*?/Count\s+(\d+)",
                                         pdf_objects(data), re.S)]
    return max(counts)


def page_text(data: bytes) -> str:
    """Text shown in content streams (WeasyPrint writes hex glyph strings; use pdftotext when
    present, which is what a person's PDF reader shows)."""
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                            check=True)
    return result.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("pdf")
    found: dict[str, bytes] = {}
    for lang in ("en", "es"):
        data = make_data(lang)
        docs = plan_documents(data, "report-card", students=["0012345"])
        render_documents(data, docs, RenderSettings(out=out / lang, pdf=True), jobs=1)
        found[lang] = (out / lang / "report-cards" / "0012345.pdf").read_bytes()
    return found


def test_pdf_is_tagged_with_language(pdfs: dict[str, bytes]) -> None:
    for lang, data in pdfs.items():
        objects = pdf_objects(data)
        assert b"/StructTreeRoot" in objects
        assert b"/MarkInfo" in objects
        assert re.search(rb"/Lang\s*\(" + lang.encode() + rb"\)", objects), lang
        assert b"pdfuaid" in objects  # PDF/UA identification in the XMP metadata


def test_pdf_pages_and_text(pdfs: dict[str, bytes]) -> None:
    pages = page_count(pdfs["en"])
    assert 2 <= pages <= 4
    text = page_text(pdfs["en"])
    assert "Ana García" in text
    assert "3 — Proficient" in text
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    spanish = page_text(pdfs["es"])
    assert "Boleta de calificaciones" in spanish
    assert "Página 1 de" in spanish


def test_combined_pdf_per_section(tmp_path: Path) -> None:
    data = make_data("en")
    docs = plan_documents(data, "report-card")
    result = render_documents(data, docs, RenderSettings(out=tmp_path, pdf=True, combine=True),
                              jobs=2)
    combined = sorted(p.name for p in result.written if p.suffix == ".pdf")
    assert combined == ["section-ALG1-P2.pdf", "section-WATER-A.pdf"]
    water = (tmp_path / "report-cards" / "section-WATER-A.pdf").read_bytes()
    assert b"/StructTreeRoot" in pdf_objects(water)
    text = page_text(water)
    assert "Ana García" in text and "Zoë Ñúñez" in text
    assert text.count("Page 1 of") == 2  # each student's pages are numbered on their own


@pytest.mark.parametrize("combine", [False, True])
def test_pdf_does_not_load_local_files(tmp_path: Path, combine: bool) -> None:
    """A district template naming a local file (an attachment embeds any file in the PDF, an
    image shows it) gets nothing: PDFs load data: URLs only."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PAYROLL", encoding="utf-8")
    templates = tmp_path / "district"
    templates.mkdir()
    (templates / "report-card.html.j2").write_text(
        f'<html><head><title>{{{{ student.name }}}}</title>'
        f'<link rel="attachment" href="{secret.as_uri()}"></head>'
        f'<body><p>Card</p><a rel="attachment" href="{secret.as_uri()}">file</a>'
        f'<img src="{secret.as_uri()}" alt=""></body></html>\n', encoding="utf-8")
    data = make_data("en")
    docs = plan_documents(data, "report-card")
    result = render_documents(data, docs, RenderSettings(
        out=tmp_path / "out", templates=templates, pdf=True, combine=combine), jobs=1)
    pdfs = [p for p in result.written if p.suffix == ".pdf"]
    assert pdfs
    for pdf in pdfs:
        objects = pdf_objects(pdf.read_bytes())
        assert b"EmbeddedFile" not in objects and b"TOP-SECRET" not in objects
