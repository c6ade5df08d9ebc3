"""Rendering the staff-facing documents (calibration, exemplar bank, coverage) to HTML and PDF.

They use the reports' environment (autoescaped, sandboxed, templates overridable) and
stylesheet, in English: they are working papers of a department, not family documents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel import Locale
from jinja2 import TemplateError

from mastery_cli.reports.environment import make_environment, template_problem


def render_staff_document(template: str, context: dict[str, Any]) -> str:
    """The HTML of ``template`` (in templates/) with ``context``."""
    env = make_environment("en", Locale("en"))
    try:
        return env.get_template(template).render(**context)
    except TemplateError as exc:
        raise template_problem(exc, env) from None


def write_pdf(html: str, path: Path, base: Path) -> None:
    from mastery_cli.reports.pdf import html_to_pdf

    path.write_bytes(html_to_pdf(html, base))


#: The reports' level tones (report.css), as literal colours for SVG: WeasyPrint does not
#: resolve CSS variables inside SVG. (background, text)
TONE_COLOURS = {1: ("#fbe9e5", "#8a2a14"), 2: ("#fcf1da", "#6e4600"),
                3: ("#e2f1e5", "#1d5a2c"), 4: ("#e1ebf8", "#1f3a7a")}


def tone(index: int, count: int) -> int:
    """The colour tone (1-4, as the reports use) of the level at ``index`` of ``count``."""
    if count <= 1:
        return 4
    return 4 if index == count - 1 else 1 + index * 3 // max(count - 1, 1)
