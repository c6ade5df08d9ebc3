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


def data_urls_only() -> Any:
    """A WeasyPrint URL fetcher that loads ``data:`` URLs and nothing else.

    The documents are self-contained (inlined CSS, inline SVG charts), so a ``file:`` or
    ``http:`` URL can only come from a district's template, and would put a local file (an
    ``<img>``, or ``<link rel="attachment">``, which embeds any file in the PDF) or a request
    to another machine into the report. WeasyPrint warns about a refused URL and goes on.
    """
    import weasyprint.urls as urls

    fetcher_class = getattr(urls, "URLFetcher", None)  # newer WeasyPrint; older: a function
    if fetcher_class is not None:
        return fetcher_class(allowed_protocols=("data",))
    default = urls.default_url_fetcher

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        if not url.lower().startswith("data:"):
            raise ValueError(f"not loaded (reports load data: URLs only): {url}")
        return default(url, *args, **kwargs)

    return fetch


def html_to_pdf(html: str, base_url: Path) -> bytes:
    weasyprint = weasyprint_module()
    document = weasyprint.HTML(string=html, base_url=str(base_url),
                               url_fetcher=data_urls_only())
    result: bytes = document.write_pdf(**PDF_OPTIONS)
    return result


def combine_to_pdf(htmls: Sequence[str], base_url: Path) -> bytes:
    """Several documents in one PDF; each keeps its own page numbers ("Page 1 of 2") and
    starts on a new sheet when printed on both sides: a document with an odd number of pages
    is followed by a blank page, so no family finds another's page on the back of theirs."""
    weasyprint = weasyprint_module()
    rendered = [
        weasyprint.HTML(string=html, base_url=str(base_url), url_fetcher=data_urls_only()
                        ).render(**PDF_OPTIONS)
        for html in htmls
    ]
    pages = []
    for document in rendered:
        pages.extend(document.pages)
        if len(document.pages) % 2:
            pages.append(_blank_page(weasyprint, document.pages[-1]))
    result: bytes = rendered[0].copy(pages).write_pdf(**PDF_OPTIONS)
    return result


def _blank_page(weasyprint: ModuleType, like: Any) -> Any:
    """An empty page of the same size as the page ``like``."""
    html = (f"<!DOCTYPE html><html><head><style>@page {{ size: {like.width}px "
            f"{like.height}px; margin: 0 }}</style></head><body></body></html>")
    return weasyprint.HTML(string=html, url_fetcher=data_urls_only()).render(
        **PDF_OPTIONS).pages[0]
