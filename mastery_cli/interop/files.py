"""Writing imported frameworks: deterministic YAML, atomically, inside the output folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mastery_cli.interop.yamlwrite import dump_yaml
from mastery_cli.output import contained, safe_filename, write_text_atomic

SCHEMA_REF = "https://mastery-cli.org/schemas/framework.schema.json"


def render_framework_files(
    files: Sequence[tuple[str, dict[str, Any]]], *, source: str, schema_ref: str = SCHEMA_REF
) -> list[tuple[str, str]]:
    """(file name, YAML text) for each framework file."""
    comment = [f"Imported from {source} by mastery.",
               "Identifiers under 'case:' keep the link to the source: edit statements freely,",
               "but keep those identifiers so that exporting again gives the same ones."]
    result = []
    for name, data in files:
        stem = name[:-5] if name.endswith(".yaml") else name
        safe = safe_filename(stem, fallback="framework") + ".yaml"
        result.append((safe, dump_yaml(data, schema=schema_ref, comments=comment)))
    return result


def write_framework_files(
    files: Sequence[tuple[str, dict[str, Any]]], out_dir: Path, *, source: str,
    schema_ref: str = SCHEMA_REF,
) -> list[Path]:
    """Write the files into ``out_dir`` (created when missing); returns the paths written."""
    written = []
    for name, text in render_framework_files(files, source=source, schema_ref=schema_ref):
        path = contained(out_dir, name)
        write_text_atomic(path, text)
        written.append(path)
    return written
