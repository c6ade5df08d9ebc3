"""PDF output through WeasyPrint, an optional extra (``pip install 'mastery-cli[pdf]'``).

WeasyPrint is imported lazily (about 0.65 s) and only when PDFs are asked for. Documents are
written as PDF/UA-1: tagged, with the document language taken from ``<html lang>``; page
numbers come from the ``@page`` rules in the templates ("Page 1 of 2").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from mastery_cli.diagnostics import MasteryError, error

INSTALL_HINT = "pip install 'mastery-cli[pdf]'"
PDF_OPTIONS: dict[str, Any] = {"pdf_variant": "pdf/ua-1"}


def weasyprint_module() -> ModuleType:
    """The weasyprint module, or a usage error saying how to install it."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the pango libraries are missing
        raise MasteryError(error(
            "pdf-unavailable", f"PDF output needs WeasyPrint, which is not usable here ({exc})",
            "--pdf", hint=f"install it with: {INSTALL_HINT} (and on Linux the pango libraries; "
                          "see the README)",
        ), usage=True) from None
    return weasyprint


def pdf_available() -> bool:
    try:
        weasyprint_module()
    except MasteryError:
        return False
    return True


def html_to_pdf(html: str, base_url: Path) -> bytes:
    weasyprint = weasyprint_module()
    document = weasyprint.HTML(string=html, base_url=str(base_url))
    result: bytes = document.write_pdf(**PDF_OPTIONS)
    return result


def combine_to_pdf(htmls: Sequence[str], base_url: Path) -> bytes:
    """Several documents in one PDF; each keeps its own page numbers ("Page 1 of 2")."""
    weasyprint = weasyprint_module()
    rendered = [
        weasyprint.HTML(string=html, base_url=str(base_url)).render(**PDF_OPTIONS)
        for html in htmls
    ]
    pages = [page for document in rendered for page in document.pages]
    result: bytes = rendered[0].copy(pages).write_pdf(**PDF_OPTIONS)
    return result
