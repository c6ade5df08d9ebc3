"""Interchange with other systems: CASE 1.1 packages, Moodle frameworks, Canvas outcomes.

Each format is a library function; the CLI (``mastery import`` / ``mastery export``) only
parses options and prints.
"""

from __future__ import annotations

from mastery_cli.interop.case_export import ExportOptions, export_case_package
from mastery_cli.interop.case_import import ImportOptions, ImportResult, read_case_package
from mastery_cli.interop.files import CheckedFiles, write_and_check, write_framework_files

__all__ = [
    "CheckedFiles",
    "ExportOptions",
    "ImportOptions",
    "ImportResult",
    "export_case_package",
    "read_case_package",
    "write_and_check",
    "write_framework_files",
]
