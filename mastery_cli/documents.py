"""Finding, reading and schema-checking mastery files.

A *mastery file* is YAML with a top-level ``kind`` of framework, rubric, policy or
assessment-plan. Folders are searched recursively; YAML that is not a mastery file (CI configs,
Kubernetes manifests) is skipped there, but a file named explicitly on the command line must be
one.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mastery_cli.diagnostics import Diagnostic, Severity, error
from mastery_cli.framework.model import Origin
from mastery_cli.inputs import check_regular, hint_for, resolved
from mastery_cli.schemas import KINDS, check_document
from mastery_cli.yamlfile import Pointer, YamlDocument, load_yaml, pointer_text

YAML_SUFFIXES = (".yaml", ".yml")
_SKIP_DIRS = {"node_modules", "__pycache__", "venv", "site-packages", "dist", "build"}


@dataclass
class MasteryDocument:
    path: str
    kind: str
    yaml: YamlDocument
    schema_ok: bool = True

    @property
    def data(self) -> Any:
        return self.yaml.data


@dataclass
class DocumentSet:
    """The mastery files found under some paths, with what went wrong reading them."""

    documents: list[MasteryDocument] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    files_checked: int = 0
    #: Files checked that could not be read as mastery files (broken YAML, an unknown kind),
    #: with the id each declares, None when not even that could be read.
    unread: list[tuple[str, str | None]] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[MasteryDocument]:
        return [d for d in self.documents if d.kind == kind]

    def may_define(self, ident: str | None) -> bool:
        """Whether a file that could not be read may be the one defining ``ident`` (any: None).

        Then a reference to ``ident`` is not reported as missing: the file's own error says what
        to fix, and 'validate it together with its framework' would name the command just run.
        """
        return any(declared is None or ident is None or declared == ident
                   for _, declared in self.unread)

    def data_at(self, origin: Origin | None, suffix: Pointer = ()) -> Any:
        """The loaded value at ``origin`` (plus ``suffix``), or None when there is none."""
        if origin is None:
            return None
        value: Any = next((d.data for d in self.documents if d.path == origin.path), None)
        for part in (*origin.pointer, *suffix):
            if isinstance(value, dict) and isinstance(part, str):
                value = value.get(part)
            elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
                value = value[part]
            else:
                return None
        return value

    def at(
        self,
        origin: Origin | None,
        code: str,
        message: str,
        suffix: Pointer = (),
        *,
        hint: str | None = None,
        severity: Severity = Severity.ERROR,
        key: bool = False,
    ) -> Diagnostic:
        """A diagnostic at ``origin`` (plus ``suffix``), with the line and column of the YAML."""
        if origin is None:
            return Diagnostic("<unknown>", None, None, code, message, severity, hint)
        pointer = (*origin.pointer, *suffix)
        for document in self.documents:
            if document.path == origin.path:
                line, column = document.yaml.position(pointer, key=key)
                return Diagnostic(origin.path, line, column, code, message, severity, hint,
                                  pointer_text(pointer))
        return Diagnostic(origin.path, None, None, code, message, severity, hint,
                          pointer_text(pointer))


def display_path(file: Path) -> str:
    """The path as the user will recognise it: relative to the current folder when inside it."""
    try:
        return resolved(file).relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):  # outside the current folder, or a symbolic link loop
        return file.as_posix()


def _identity(file: Path) -> Path:
    """The real path of ``file``, to name each file once; a link loop stands for itself."""
    try:
        return resolved(file)
    except OSError:
        return Path(os.path.abspath(file))


def discover(paths: Sequence[Path]) -> Iterable[tuple[Path, bool]]:
    """Every candidate file under ``paths``, with whether it was named explicitly."""
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found: list[Path] = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
                found.extend(Path(root) / f for f in files if f.endswith(YAML_SUFFIXES))
            for file in sorted(found):
                if _identity(file) not in seen:
                    seen.add(_identity(file))
                    yield file, False
        else:
            if _identity(path) not in seen:
                seen.add(_identity(path))
                yield path, True


def _classify(
    document: YamlDocument | None, explicit: bool
) -> tuple[str | None, Diagnostic | None, str | None]:
    """(kind, error, reason to skip) for a parsed file."""
    if document is None:
        return None, None, None
    data = document.data
    if data is None:
        if explicit:
            return None, error(
                "empty-file", "the file is empty", document.path, 1, 1,
                hint="a mastery file starts with 'kind:' and 'schema_version: 1'",
            ), None
        return None, None, "empty"
    if not isinstance(data, dict) or "kind" not in data:
        if explicit:
            return None, document.diagnostic(
                "not-a-mastery-file",
                "not a mastery file: there is no top-level 'kind'",
                hint="a mastery file starts with 'kind: framework' (or rubric, policy, "
                     "assessment-plan)",
            ), None
        return None, None, "no 'kind' key"
    kind = data["kind"]
    if kind in KINDS:
        return str(kind), None, None
    looks_ours = explicit or "schema_version" in data
    if not looks_ours:
        return None, None, f"kind {kind!r} is not a mastery kind"
    close = difflib.get_close_matches(str(kind), KINDS, n=1)
    return None, document.diagnostic(
        "unknown-kind", f"unknown kind {kind!r}; expected one of: {', '.join(KINDS)}",
        ("kind",), hint=f"did you mean '{close[0]}'?" if close else None,
    ), None


@dataclass
class _FileOutcome:
    """What reading one file gave: counted or skipped, its problems, and the document."""

    checked: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)
    skipped: tuple[str, str] | None = None
    document: MasteryDocument | None = None
    unread: tuple[str, str | None] | None = None


def _load_file(file: Path, explicit: bool, kinds: Sequence[str]) -> _FileOutcome:
    shown = display_path(file)
    try:
        check_regular(file)
    except FileNotFoundError:
        return _FileOutcome(diagnostics=[error(
            "file-not-found", "no such file or folder", shown,
            hint="check the path; folders are searched for *.yaml and *.yml files",
        )])
    except OSError as unreadable:  # a pipe, a device, a symbolic link loop: never opened
        return _FileOutcome(diagnostics=[error(
            "file-unreadable", f"cannot read the file: {unreadable.strerror}", shown,
            hint=hint_for(unreadable),
        )])
    document, problems = load_yaml(file, shown)
    if document is None and problems:
        # A broken YAML file counts as checked: it is the user's file and it has errors.
        return _FileOutcome(checked=True, diagnostics=list(problems), unread=(shown, None))
    kind, problem, skip_reason = _classify(document, explicit)
    if skip_reason is not None:
        return _FileOutcome(skipped=(shown, skip_reason))
    if problem is not None:
        return _FileOutcome(checked=True, diagnostics=[*problems, problem],
                            unread=_declared_id(shown, document))
    assert document is not None and kind is not None
    if kind not in kinds:
        return _FileOutcome(skipped=(shown, f"kind {kind!r} is not used here"))
    schema_problems = check_document(document, kind)
    return _FileOutcome(
        checked=True, diagnostics=[*problems, *schema_problems],
        document=MasteryDocument(shown, kind, document, schema_ok=not schema_problems),
    )


def _declared_id(shown: str, document: YamlDocument | None) -> tuple[str, str | None] | None:
    """(path, id) of a file whose kind is unknown, or None when it declares no id to find."""
    data = document.data if document is not None else None
    if not isinstance(data, dict) or "id" not in data:
        return None
    return shown, str(data["id"])


def load_documents(paths: Sequence[Path], *, kinds: Sequence[str] = KINDS) -> DocumentSet:
    """Read and schema-check every mastery file under ``paths``."""
    result = DocumentSet()
    for file, explicit in discover(paths):
        outcome = _load_file(file, explicit, kinds)
        result.files_checked += outcome.checked
        result.diagnostics.extend(outcome.diagnostics)
        if outcome.skipped is not None:
            result.skipped.append(outcome.skipped)
        if outcome.document is not None:
            result.documents.append(outcome.document)
        if outcome.unread is not None:
            result.unread.append(outcome.unread)
    return result
