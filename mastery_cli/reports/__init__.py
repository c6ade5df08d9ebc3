"""Family-facing reports: report cards, transcripts, "I can" sheets and class summaries.

Build a :class:`ReportData` from a grades.json dict and the framework, plan the documents with
:func:`plan_documents`, write them with :func:`render_documents` and list them with
:func:`write_index`; :func:`write_reports` does both through one output folder, all files in
place together or none.
Templates and their variables: ``docs/templates.md``.
"""

from mastery_cli.reports.context import ReportData, ReportOptions
from mastery_cli.reports.render import (
    KINDS,
    Document,
    RenderResult,
    RenderSettings,
    language_warnings,
    plan_documents,
    render_documents,
    write_index,
    write_reports,
)

__all__ = [
    "KINDS",
    "Document",
    "RenderResult",
    "RenderSettings",
    "ReportData",
    "ReportOptions",
    "language_warnings",
    "plan_documents",
    "render_documents",
    "write_index",
    "write_reports",
]
