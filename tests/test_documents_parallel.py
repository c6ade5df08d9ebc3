"""Large file sets are parsed on every core; the result must equal the one-process result."""

from __future__ import annotations

from pathlib import Path

import pytest

from mastery_cli import documents
from mastery_cli.diagnostics import render_text
from mastery_cli.validation import check_documents

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = [ROOT / "examples", ROOT / "tests" / "cases"]


def _report(monkeypatch: pytest.MonkeyPatch, parallel: bool) -> tuple[list[str], list[object]]:
    if parallel:
        monkeypatch.setattr(documents, "PARALLEL_MIN_FILES", 2)
        monkeypatch.setattr(documents, "PARALLEL_MIN_BYTES", 0)
        monkeypatch.setattr(documents.os, "cpu_count", lambda: 2)
    else:
        monkeypatch.setattr(documents, "_parallel_outcomes", lambda *args: None)
    sets = documents.load_documents(FOLDERS)
    result = check_documents(sets)
    lines = [render_text(d) for d in result.diagnostics]
    lines.append(f"{result.files_checked} checked, skipped {sorted(result.skipped)}")
    return lines, [(d.path, d.kind, d.data) for d in sets.documents]


def test_parallel_loading_gives_the_serial_result(monkeypatch: pytest.MonkeyPatch) -> None:
    serial_lines, serial_docs = _report(monkeypatch, parallel=False)
    monkeypatch.undo()
    calls: list[int] = []
    original = documents._parallel_outcomes

    def spy(*args: object) -> object:
        outcome = original(*args)  # type: ignore[arg-type]
        calls.append(0 if outcome is None else 1)
        return outcome

    monkeypatch.setattr(documents, "_parallel_outcomes", spy)
    parallel_lines, parallel_docs = _report(monkeypatch, parallel=True)
    assert calls == [1], "the process pool was not used"
    assert parallel_lines == serial_lines
    assert parallel_docs == serial_docs
    assert any("error" in line for line in serial_lines), "the cases should have errors"
