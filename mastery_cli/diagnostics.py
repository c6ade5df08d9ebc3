"""The one diagnostic record every command reports problems with, and its renderings.

A diagnostic says what happened (``message``), where (``path`` plus ``line``/``column``; for CSV
input ``line`` is the physical line of the record and ``column`` the 1-based field number), a
stable kebab-case ``code`` that scripts may rely on, a ``severity`` and a ``hint`` to fix it.
``pointer`` carries the JSON pointer (YAML) or the column name (CSV) for tools that want it.

Rendering is plain text on purpose: these lines are read by editors, CI log parsers and grep,
so they never go through rich markup.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JSON_FORMAT_VERSION = 1


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in one place of one file."""

    path: str
    line: int | None
    column: int | None
    code: str
    message: str
    severity: Severity = Severity.ERROR
    hint: str | None = None
    pointer: str | None = field(default=None, compare=False)

    def location(self) -> str:
        text = self.path
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "pointer": self.pointer,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
        }


def error(
    code: str,
    message: str,
    path: str,
    line: int | None = None,
    column: int | None = None,
    *,
    hint: str | None = None,
    pointer: str | None = None,
) -> Diagnostic:
    return Diagnostic(path, line, column, code, message, Severity.ERROR, hint, pointer)


def warning(
    code: str,
    message: str,
    path: str,
    line: int | None = None,
    column: int | None = None,
    *,
    hint: str | None = None,
    pointer: str | None = None,
) -> Diagnostic:
    return Diagnostic(path, line, column, code, message, Severity.WARNING, hint, pointer)


@dataclass
class Summary:
    """Counts shown after the diagnostics; ``subject`` names what was counted (files, rows)."""

    checked: int = 0
    subject: str = "files"
    errors: int = 0
    warnings: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, diagnostics: Sequence[Diagnostic], checked: int, subject: str = "files") -> Summary:
        errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
        warnings = sum(1 for d in diagnostics if d.severity is Severity.WARNING)
        return cls(checked=checked, subject=subject, errors=errors, warnings=warnings)

    def line(self) -> str:
        def plural(n: int, word: str) -> str:
            return f"{n} {word}" if n == 1 else f"{n} {word}s"

        subject = self.subject[:-1] if self.checked == 1 and self.subject.endswith("s") else (
            self.subject
        )
        return (
            f"{self.checked} {subject} checked: {plural(self.errors, 'error')}, "
            f"{plural(self.warnings, 'warning')}"
        )


def sort_key(d: Diagnostic) -> tuple[str, int, int, str, str]:
    return (d.path, d.line or 0, d.column or 0, d.code, d.message)


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Stable, deterministic order: by file, position, then code; exact duplicates dropped."""
    return sorted(set(diagnostics), key=sort_key)


#: How much of a value a message quotes: enough to recognise it, not a whole 100,000-character
#: cell (printed once per diagnostic, in the terminal and again in rejects.csv's message).
ECHO_LIMIT = 200


def shortened(value: str, limit: int = ECHO_LIMIT) -> str:
    """``value`` for quoting in a message: cut after ``limit`` characters, saying how long it was.

    Every message that echoes the user's text (a rejected cell, a key, a reference) passes it
    through here, so one limit holds everywhere.
    """
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value):,} characters)"


# Control characters (C0, DEL, C1), line and paragraph separators, and the invisible marks
# that reorder text (bidirectional overrides): echoed raw, they would let a file's text start
# a line of its own in a log (a fake diagnostic, a GitHub workflow command) or hide itself.
_UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control characters written as escapes (``\\n``, ``\\x1b``, ``\\u2028``), as
    Python's ``repr`` writes them: one diagnostic is one line (two with its hint) whatever
    the files say."""
    return _UNPRINTABLE.sub(_escaped, text)


def render_text(d: Diagnostic) -> str:
    text = printable(f"{d.location()}: {d.severity.value} [{d.code}] {d.message}")
    if d.hint:
        text += f"\n    hint: {printable(d.hint)}"
    return text


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render_github(d: Diagnostic) -> str:
    """A GitHub Actions workflow command, which GitHub turns into an annotation on the file."""
    command = {"error": "error", "warning": "warning"}.get(d.severity.value, "notice")
    props = [f"file={_escape_property(printable(d.path))}"]
    if d.line is not None:
        props.append(f"line={d.line}")
        if d.column is not None:
            props.append(f"col={d.column}")
    props.append(f"title={_escape_property(d.code)}")
    message = d.message + (f" (hint: {d.hint})" if d.hint else "")
    return f"::{command} {','.join(props)}::{_escape_data(printable(message))}"


def render_json(diagnostics: Sequence[Diagnostic], summary: Summary) -> str:
    document = {
        "version": JSON_FORMAT_VERSION,
        "diagnostics": [d.to_dict() for d in diagnostics],
        "summary": {
            summary.subject: summary.checked,
            "errors": summary.errors,
            "warnings": summary.warnings,
            **summary.extra,
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


FORMATS = ("text", "json", "github")


def default_format() -> str:
    """`github` under GitHub Actions, so problems show up as annotations without configuration."""
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def render(diagnostics: Sequence[Diagnostic], summary: Summary, fmt: str) -> str:
    """The whole report in one format; text and github end with the summary line."""
    if fmt == "json":
        return render_json(diagnostics, summary)
    renderer = render_github if fmt == "github" else render_text
    lines = [renderer(d) for d in diagnostics]
    lines.append(summary.line())
    return "\n".join(lines)


def exit_code(diagnostics: Sequence[Diagnostic], strict: bool = False) -> int:
    """0 when fine, 1 when the user's files have errors (or warnings under ``strict``)."""
    for d in diagnostics:
        if d.severity is Severity.ERROR or (strict and d.severity is Severity.WARNING):
            return 1
    return 0


class MasteryError(Exception):
    """A problem that stops a command, carrying the diagnostics that explain it.

    ``usage`` marks problems with how the command was called (exit 2) rather than with the
    user's files (exit 1).
    """

    def __init__(self, diagnostics: Sequence[Diagnostic] | Diagnostic, *, usage: bool = False):
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else list(
            diagnostics
        )
        self.usage = usage
        super().__init__("; ".join(render_text(d) for d in self.diagnostics))
