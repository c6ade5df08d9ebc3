"""The engine reader's shortcuts give mastery's reader's bytes on the shapes they assume away:
files of different columns in one run (a lookup for a field one file lacks), students whose
ids sort differently as text and as numbers or differ only in spaces (the integer rank the
engine sorts on), a name spelt two ways, a file without a last line break and one with line
breaks inside values (the line count that skips looking for them)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastery_cli.grading.engine import evidence
from mastery_cli.grading.engine.load import empty_lines, physical_lines
from tests.engine_data import RESULT_FILES
from tests.test_engine_run import INGEST, READER, files_of, graded

FULL = ["student_id", "student_name", "section", "course", "target", "assessment", "type",
        "date", "score", "comment"]
#: Another teacher's export: no name, no date, other order, a column nobody reads.
NARROW = ["target", "score", "student_id", "type", "room"]


def _write(path: Path, header: list[str], rows: list[list[str]], *, last_break: bool = True,
           ending: str = "\n", empty_after: tuple[int, ...] = ()) -> Path:
    """The rows as CSV; ``empty_after``: an empty line after each of these lines (the text's
    lines, counted before any is added)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator=ending).writerows([header, *rows])
    lines = path.read_bytes().split(ending.encode())
    for line in sorted(empty_after, reverse=True):
        lines.insert(line, b"")
    path.write_bytes(ending.encode().join(lines))
    if not last_break:
        path.write_bytes(path.read_bytes().rstrip(ending.encode()))
    return path


def _full_rows() -> list[list[str]]:
    rows = []
    # "10" < "9" as text; " 0042 " is "0042"; "Zoë" < "anna" < "Ångström" by code point.
    students = [("9", "Nine"), ("10", "Ten"), (" 0042 ", "Forty, Two"), ("0042", "Forty-Two"),
                ("Zoë", "Z"), ("anna", "A"), ("Ångström", "Å")]
    for day, (student, name) in enumerate(students * 3, start=1):
        for target, score in (("MATH.ALG.1", "3"), ("MATH.ALG.2", "Proficient"),
                              ("MATH.NQ.1", "EX"), ("MATH.ALG.9", "2"), ("MATH.NQ.2", "")):
            rows.append([student, name, "ALG1-P1", "ALG1", target, f"Quiz {day % 4}",
                         "Formative" if day % 2 else "summative",
                         "" if day % 5 == 0 else f"2026-09-{day % 28 + 1:02d}", score, ""])
    # A student between others in id order whose every row is rejected: graded nowhere.
    rows.append(["5", "Five", "ALG1-P1", "ALG1", "MATH.ALG.9", "Quiz 1", "formative",
                 "2026-09-02", "3", ""])
    rows.append(["", "", "", "", "", "", "", "", "", ""])  # padding
    rows.append(list(rows[3]))  # an exact copy
    return rows


def _narrow_rows() -> list[list[str]]:
    return [[target, score, student, kind, "B12"]
            for student in ("10", "0042", "77", "")
            for target, score, kind in (("MATH.ALG.1", "2", "practice"),
                                        ("MATH.ALG.3", "4", "summative"),
                                        ("SCI.INQ.1", "x", "summative"))]


@pytest.mark.parametrize("batch_rows", [5, evidence.BATCH_ROWS])  # a student a batch, or all
@pytest.mark.parametrize("breaks", ["none", "inside values", "empty lines", "CRLF"])
def test_files_of_other_shapes_give_the_bytes_of_mastery_reader(
        breaks: str, batch_rows: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _full_rows()
    if breaks == "inside values":
        rows[5][9] = "line one\nline two"
        rows[40][1] = "Forty,\nTwo"
    empty = (3, 3, 10, 200) if breaks in ("empty lines", "CRLF") else ()
    ending = "\r\n" if breaks == "CRLF" else "\n"
    inputs = [_write(tmp_path / "full.csv", FULL, rows, last_break=False, ending=ending,
                     empty_after=empty),
              _write(tmp_path / "narrow.csv", NARROW, _narrow_rows(), empty_after=empty)]
    ingest = graded(inputs, tmp_path / "ingest", INGEST)
    monkeypatch.setattr(evidence, "BATCH_ROWS", batch_rows)
    engine = graded(inputs, tmp_path / "engine", READER)
    assert files_of(tmp_path / "engine") == files_of(tmp_path / "ingest")
    assert engine.counts == ingest.counts
    assert engine.counts.used > 0 and engine.counts.rejected > 0
    engine_said = {(d.code, Path(d.path).name, d.line) for d in engine.diagnostics}
    ingest_said = {(d.code, Path(d.path).name, d.line) for d in ingest.diagnostics}
    assert engine_said - ingest_said == set(), ingest_said - engine_said
    assert ingest_said - engine_said == set()
    grades = (tmp_path / "engine" / RESULT_FILES[0]).read_text(encoding="utf-8")
    assert "\n0042,Forty-Two," in grades or "\n0042,\"Forty, Two\"," in grades
    assert "\n5," not in grades


@pytest.mark.parametrize(("data", "lines"), [
    (b"", 0), (b"a", 1), (b"a\n", 1), (b"a\nb", 2), (b"a\nb\n", 2), (b"\n\n", 2),
    (b"a\r\nb\r\n", 2), (b'"x\ny"\n', 2)])
def test_physical_lines_counts_lines_as_editors_do(data: bytes, lines: int,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert physical_lines(path) == lines


@given(st.text(alphabet="ab,\"\n"))
def test_physical_lines_counts_as_python_splits_lines(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        path.write_bytes(text.encode())
        assert physical_lines(path) == len(text.splitlines())


@given(st.text(alphabet="a,\r\n"))
def test_empty_lines_are_the_lines_ended_with_nothing_in_them(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        path.write_bytes(text.encode())
        ended = text.split("\n")[:-1]  # the lines a line break ends
        assert empty_lines(path) == [n for n, line in enumerate(ended, start=1)
                                     if line in ("", "\r")]


def test_kept_copies_give_the_bytes_of_mastery_reader(tmp_path: Path) -> None:
    from dataclasses import replace

    from mastery_cli.cli.grade_run import load_inputs
    from mastery_cli.grading.engine.run import grade_run
    from mastery_cli.grading.pipeline import ingest_config
    from tests.engine_data import FRAMEWORK, POLICY

    framework, policy, _ = load_inputs(FRAMEWORK, POLICY, None, [])
    config = replace(ingest_config(policy), keep_duplicates=True)
    inputs = [_write(tmp_path / "full.csv", FULL, _full_rows())]
    outcomes = {}
    for name, options in (("ingest", INGEST), ("engine", READER)):
        (tmp_path / name).mkdir()
        outcomes[name] = grade_run(inputs, framework, policy, config, tmp_path / name,
                                   options=options)
    assert files_of(tmp_path / "engine") == files_of(tmp_path / "ingest")
    assert outcomes["engine"].counts == outcomes["ingest"].counts
    assert outcomes["engine"].counts.duplicates_dropped == 0
