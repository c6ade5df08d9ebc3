"""Writing imported files: deterministic YAML, atomically, inside the output folder, checked.

An import gives (name, data) pairs: framework files at the top of the output folder, rubric
files under ``rubrics/``, a grading policy. Each file's first line names the JSON Schema of its
kind (``# yaml-language-server: $schema=…``) for editors; ``mastery schema --out DIR`` writes
local copies for editors that cannot fetch it. After writing, the files are checked exactly as
``mastery validate`` checks them: an importer must never leave files that do not validate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mastery_cli.diagnostics import Diagnostic, Severity
from mastery_cli.interop.yamlwrite import dump_yaml
from mastery_cli.output import OutputFolder, safe_filename, write_text_atomic

SCHEMA_BASE = "https://mastery-cli.org/schemas/"
SCHEMA_REF = f"{SCHEMA_BASE}framework.schema.json"


def schema_ref_for(data: dict[str, Any]) -> str:
    """The schema URL (the schema's ``$id``) for a file of this kind."""
    kind = data.get("kind")
    return f"{SCHEMA_BASE}{kind if kind in ('rubric', 'policy') else 'framework'}.schema.json"


def _safe_name(name: str) -> str:
    """``name`` made safe part by part; one folder level (``rubrics/x.yaml``) is kept."""
    parts = [p for p in name.split("/") if p]
    stem = parts[-1][:-5] if parts and parts[-1].endswith(".yaml") else (parts or [""])[-1]
    folders = [safe_filename(p, fallback="files") for p in parts[:-1]]
    return "/".join([*folders, safe_filename(stem, fallback="framework") + ".yaml"])


def render_framework_files(
    files: Sequence[tuple[str, dict[str, Any]]], *, source: str, schema_ref: str | None = None
) -> list[tuple[str, str]]:
    """(file name, YAML text) for each file; ``schema_ref`` overrides the per-kind schema."""
    result = []
    for name, data in files:
        comment = [f"Imported from {source} by mastery."]
        if data.get("kind") == "rubric":
            comment += ["The CASE rubric itself is kept under 'case.rubrics' of the framework,",
                        "which is what 'mastery export case' writes back."]
        elif data.get("kind") == "policy":
            comment += ["The competency roll-ups (and per-competency overrides) stand for the",
                        "source's rules, which are kept verbatim under 'case.moodle' of the",
                        "framework."]
        else:
            comment += ["Identifiers under 'case:' keep the link to the source: edit statements "
                        "freely,", "but keep those identifiers so that exporting again gives "
                        "the same ones."]
        text = dump_yaml(data, schema=schema_ref or schema_ref_for(data), comments=comment)
        result.append((_safe_name(name), text))
    return result


def write_framework_files(
    files: Sequence[tuple[str, dict[str, Any]]], out_dir: Path, *, source: str,
    schema_ref: str | None = None, inputs: Sequence[Path] = (),
) -> list[Path]:
    """Write the files into ``out_dir`` (created when missing), all together or none
    (`OutputFolder`; none may overwrite one of ``inputs``); returns the paths written."""
    rendered = render_framework_files(files, source=source, schema_ref=schema_ref)
    with OutputFolder(out_dir, names=[name for name, _ in rendered], inputs=inputs) as folder:
        for name, text in rendered:
            write_text_atomic(folder.path(name), text)
        return folder.commit()


@dataclass
class CheckedFiles:
    """The files an import wrote and what ``mastery validate`` says about them."""

    paths: list[Path]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is not Severity.ERROR]


def write_and_check(
    files: Sequence[tuple[str, dict[str, Any]]], out_dir: Path, *, source: str,
    inputs: Sequence[Path] = (),
) -> CheckedFiles:
    """Write the files, then validate exactly those files together (not the rest of out_dir)."""
    from mastery_cli.validation import validate_paths

    paths = write_framework_files(files, out_dir, source=source, inputs=inputs)
    return CheckedFiles(paths, validate_paths(paths).diagnostics)
