"""Sizes and shapes the standard library refuses: integers past Python's 4,300-digit limit,
JSON nested 100,000 deep, CSV fields past the csv module's 131,072 characters, one huge cell in
a result file, a CASE hierarchy 5,000 deep. Every hostile file is made here, in tmp_path."""

from __future__ import annotations

import csv
import io
import json
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import mastery_cli.interop.case_import as case_import
from mastery_cli.cli import app
from mastery_cli.diagnostics import MasteryError
from mastery_cli.grading.outputs import csv_bytes
from mastery_cli.grading.table import Table
from mastery_cli.interop.moodle import read_moodle_csv
from mastery_cli.interop.moodle_rules import RULE_POINTS, Child, rule_to_rollup
from mastery_cli.jsonfile import MAX_DEPTH, JsonProblem, parse_json
from mastery_cli.yamlfile import load_yaml_bytes

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"
MOODLE = ROOT / "tests" / "data" / "interop" / "small-moodle.csv"
COMMENTS = ROOT / "tests" / "data" / "report" / "comments.csv"
REPORT = ROOT / "tests" / "data" / "report"
runner = CliRunner()


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args), env={"COLUMNS": "240"})
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


# -- integers longer than Python's conversion limit --------------------------------------------

@pytest.mark.parametrize(("value", "column"), [
    ("1" + "0" * 5000, 17), ("-" + "9" * 4400, 17), ("0x" + "f" * 20_000, 17),
    ("0o" + "7" * 6000, 17),
])
def test_yaml_integer_too_long_is_located(value: str, column: int) -> None:
    raw = f"kind: framework\nschema_version: {value}\nid: demo\n".encode()
    document, problems = load_yaml_bytes(raw, "f.yaml")
    assert document is None
    assert [(p.code, p.line, p.column) for p in problems] == [("yaml-number-too-long", 2, column)]
    assert problems[0].hint


def test_yaml_long_numbers_that_are_fine() -> None:
    raw = ('a: ' + "9" * 100 + '\nb: "' + "1" * 5000 + '"\nc: 1.' + "5" * 5000 + "\n").encode()
    document, problems = load_yaml_bytes(raw, "f.yaml")
    assert problems == [] and document is not None
    assert document.data["a"] == int("9" * 100)
    assert document.data["b"] == "1" * 5000  # quoted: text
    assert isinstance(document.data["c"], float)


def test_validate_a_level_value_of_5000_digits(tmp_path: Path) -> None:
    framework = (ROOT / "tests" / "cases" / "yaml-number-too-long" / "framework.yaml")
    result = invoke("validate", str(framework))
    assert result.exit_code == 1
    assert "framework.yaml:15:16: error [yaml-number-too-long]" in result.output


def test_json_integer_too_long_is_located() -> None:
    text = '{\n  "a": "12345678901234567890' + "0" * 200 + '",\n  "b": [1, -' + "7" * 5000 + "]}"
    with pytest.raises(JsonProblem) as caught:
        parse_json(text)
    problem = caught.value
    assert (problem.code, problem.line, problem.column) == ("json-number-too-long", 3, 12)
    assert parse_json('{"a": ' + "9" * 100 + ', "b": 1.' + "5" * 5000 + "}")["a"] == int("9" * 100)


def test_case_package_with_a_5000_digit_number(tmp_path: Path) -> None:
    package = tmp_path / "long.json"
    package.write_text('{"CFDocument": {"identifier": "x",\n"n": ' + "7" * 5000 + "}}",
                       encoding="utf-8")
    result = invoke("import", "case", str(package), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "long.json:2:6: error [json-number-too-long]" in result.output
    assert not (tmp_path / "out").exists()


# -- deeply nested JSON -----------------------------------------------------------------------

@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 10_000, 100_000])
def test_json_too_deep_is_located_never_recursion_error(levels: int) -> None:
    text = '{"a": ' + "[" * levels + "]" * levels + "}"
    with pytest.raises(JsonProblem) as caught:
        parse_json(text)
    assert (caught.value.code, caught.value.line, caught.value.column) == (
        "json-too-deep", 1, 7 + MAX_DEPTH - 1)


def test_brackets_in_strings_do_not_count() -> None:
    deep = "[" * (MAX_DEPTH - 1)
    text = '["' + "[" * 5000 + '\\"[[[\\\\", "\\\\", "]]]]", ' + deep + "]" * (MAX_DEPTH - 1) + "]"
    data = parse_json(text)
    assert data[:3] == ["[" * 5000 + '"[[[\\', "\\", "]]]]"]
    with pytest.raises(JsonProblem):
        parse_json('["]]]]]]", ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "]")


def test_case_package_100000_levels_deep(tmp_path: Path) -> None:
    package = tmp_path / "deep.json"
    package.write_text('{"CFDocument": ' + "[" * 100_000 + "]" * 100_000 + "}",
                       encoding="utf-8")
    result = invoke("import", "case", str(package), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert f"deep.json:1:{15 + MAX_DEPTH}: error [json-too-deep]" in result.output


def test_grades_json_too_deep(tmp_path: Path) -> None:
    (tmp_path / "grades.json").write_text("[" * 50_000, encoding="utf-8")
    result = invoke("report", "report-card", "--grades", str(tmp_path), "--framework",
                    str(REPORT / "framework"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert f"grades.json:1:{MAX_DEPTH + 1}: error [json-too-deep]" in result.output


def _moodle_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(MOODLE.read_text(encoding="utf-8"), newline="")))


def _write_rows(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_moodle_json_cells_too_deep_or_too_long(tmp_path: Path) -> None:
    rows = _moodle_rows()
    rows[1][6] = "[" * 20_000 + "]" * 20_000  # the framework row's scale configuration
    rows[1][13] = '{"1": ' + "[" * 50_000 + "]" * 50_000 + "}"  # its taxonomy
    result = read_moodle_csv(_write_rows(tmp_path / "m.csv", rows))
    found = {(d.code, d.line, d.column, d.pointer) for d in result.diagnostics}
    assert ("json-too-deep", 2, 7, "Scale configuration") in found
    assert ("json-too-deep", 2, 14, "Taxonomy") in found
    rows = _moodle_rows()
    rows[1][6] = '[{"id": ' + "1" * 5000 + ', "proficient": 1}]'
    rows[1][13] = '{"' + "1" * 5000 + '": "x"}'  # a digit string too long for int()
    result = read_moodle_csv(_write_rows(tmp_path / "m2.csv", rows))
    problems = [d for d in result.diagnostics if d.code == "json-number-too-long"]
    assert [(d.line, d.column) for d in problems] == [(2, 7)]
    assert "line 1, column 9 of the cell" in problems[0].message


def test_moodle_rule_configurations_refused_with_a_reason() -> None:
    children = [Child("1", True), Child("2", True)]
    deep = "[" * 10_000 + "]" * 10_000
    for config in (deep, '{"base": {"points": ' + "9" * 5000 + "}}",
                   '{"base": {"points": 1' + "0" * 99 + '}, "competencies": []}'):
        rollup, reason = rule_to_rollup(RULE_POINTS, "1", config, children)
        assert rollup is None and reason


# -- CSV fields past the csv module's limit ---------------------------------------------------

def _gradebook(tmp_path: Path, column: str, value: str, row: int = 4) -> Path:
    source = EXAMPLES / "gradebook" / "algebra1_fall.csv"
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8"), newline="")))
    rows[row][rows[0].index(column)] = value
    return _write_rows(tmp_path / "book.csv", rows[:300])


@pytest.mark.parametrize("comment", ["x" * 1_000_000, "first line\n" + "y" * 200_000])
def test_gradebook_with_a_megabyte_comment(tmp_path: Path, comment: str) -> None:
    book = _gradebook(tmp_path, "comment", comment)
    result = invoke("grade", str(book), "--framework", str(EXAMPLES / "framework"),
                    "--out", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.output
    assert "field larger than field limit" not in result.output


def test_a_header_cell_longer_than_the_sample_is_read_whole(tmp_path: Path) -> None:
    source = EXAMPLES / "gradebook" / "algebra1_fall.csv"
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8"), newline="")))[:100]
    for row in rows:
        row.insert(2, "h" * 200_000 if row is rows[0] else "v")
    book = _write_rows(tmp_path / "book.csv", rows)
    result = invoke("grade", str(book), "--framework", str(EXAMPLES / "framework"),
                    "--out", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.output
    assert "unknown-format" not in result.output


def test_moodle_description_of_200000_characters(tmp_path: Path) -> None:
    rows = _moodle_rows()
    rows[2][3] = "<p>" + "d" * 200_000 + "</p>"
    result = read_moodle_csv(_write_rows(tmp_path / "m.csv", rows))
    texts = json.dumps([data for _, data in result.files])
    assert "d" * 200_000 in texts


def test_comments_file_with_a_megabyte_comment(tmp_path: Path) -> None:
    text = COMMENTS.read_text(encoding="utf-8") + '0012345,,"' + "c" * 1_000_000 + '"\n'
    comments = tmp_path / "comments.csv"
    comments.write_text(text, encoding="utf-8")
    result = invoke("report", "report-card", "--grades", str(REPORT / "grades"), "--framework",
                    str(REPORT / "framework"), "--date", "2025-12-19", "-q",
                    "--out", str(tmp_path / "out"), "--comments", str(comments))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out" / "report-cards" / "0012345.html").read_text(encoding="utf-8")
    assert "c" * 1_000_000 in page


# -- one huge cell in a result file -----------------------------------------------------------

def _reference_csv(rows: list[list[str]]) -> bytes:
    from mastery_cli.output import neutralize_formula

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [[neutralize_formula(cell) for cell in row] for row in rows])
    return buffer.getvalue().encode("utf-8")


def test_one_long_cell_costs_its_own_size_not_rows_times_width() -> None:
    students = 5_000
    long = "=HYPERLINK(" + 'é"a,' * 50_000  # a formula, quotes, commas, non-ASCII
    names = [f"Student {i}" for i in range(students)]
    names[1234] = long
    notes = ["ok" if i % 2 else "" for i in range(students)]
    notes[10] = "n" * 300
    table = Table({"name": np.array(names, dtype=object), "note": np.array(notes, dtype=object)},
                  students)
    tracemalloc.start()
    data = csv_bytes(table, ["name", "note"], 2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert data == _reference_csv([["name", "note"], *map(list, zip(names, notes, strict=True))])
    # Before: 5,000 distinct names padded to the longest (300 KB of UTF-8 bytes): 1.5 GB.
    assert peak < 40 * len(long.encode("utf-8")), peak


@pytest.mark.parametrize("cells", [["", "x" * 1000, ""], ["-" + "1" * 500, "", "a"]])
def test_long_cells_in_a_lone_column(cells: list[str]) -> None:
    table = Table({"only": np.array(cells, dtype=object)}, len(cells))
    assert csv_bytes(table, ["only"], 2) == _reference_csv([["only"], *[[c] for c in cells]])


def test_gradebook_with_a_100000_character_name(tmp_path: Path) -> None:
    source = EXAMPLES / "gradebook" / "algebra1_fall.csv"
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8"), newline="")))
    long = "N" * 100_000
    for row in rows[1:]:
        if row[0] == rows[1][0]:
            row[1] = long
    book = _write_rows(tmp_path / "book.csv", rows)
    result = invoke("grade", str(book), "--framework", str(EXAMPLES / "framework"),
                    "--out", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.output
    graded = list(csv.DictReader(io.StringIO(
        (tmp_path / "out" / "target_grades.csv").read_text(encoding="utf-8"), newline="")))
    named = [row for row in graded if row["student_id"] == rows[1][0]]
    assert named and all(row["student_name"] == long for row in named)
    assert all(len(row["student_name"]) < 100 for row in graded if row not in named)


# -- CASE hierarchies ----------------------------------------------------------------------

def _chain_package(links: dict[str, str | None]) -> dict[str, Any]:
    namespace = uuid.UUID("3f0e3c1a-7d43-4f5c-9a1b-2c3d4e5f6a7b")
    base = "https://case.test/uri/"
    doc = str(uuid.uuid5(namespace, "doc"))
    ids = {name: str(uuid.uuid5(namespace, name)) for name in links}

    def link(name: str | None) -> dict[str, str]:
        identifier = ids[name] if name else doc
        return {"title": name or "doc", "identifier": identifier, "uri": base + identifier}

    return {
        "CFDocument": {"identifier": doc, "uri": base + doc, "creator": "c", "title": "Chain"},
        "CFItems": [{"identifier": ids[n], "uri": base + ids[n], "fullStatement": n}
                    for n in links],
        "CFAssociations": [{
            "identifier": str(uuid.uuid5(namespace, f"a-{n}")), "associationType": "isChildOf",
            "uri": base + str(uuid.uuid5(namespace, f"a-{n}")), "originNodeURI": link(n),
            "destinationNodeURI": link(parent), "sequenceNumber": 1}
            for n, parent in links.items()],
    }


def test_an_isChildOf_chain_5000_deep_is_built_in_linear_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    links: dict[str, str | None] = {f"i{k}": f"i{k - 1}" if k else None for k in range(5_000)}
    package = tmp_path / "chain.json"
    package.write_text(json.dumps(_chain_package(links)), encoding="utf-8")
    spent: list[float] = []
    build = case_import._build_tree

    def timed(*args: Any) -> Any:
        start = time.perf_counter()
        try:
            return build(*args)
        finally:
            spent.append(time.perf_counter() - start)

    monkeypatch.setattr(case_import, "_build_tree", timed)
    result = case_import.read_case_package(package)
    assert result.files
    assert spent[0] < 3.0, spent  # quadratic before: 9 s for 5,000, 35 s for 10,000


def test_isChildOf_loops_are_broken_at_their_first_item(tmp_path: Path) -> None:
    # i0 hangs below the loop i1 -> i2 -> i1; i3 -> i3 is a loop of its own.
    links: dict[str, str | None] = {"i0": "i1", "i1": "i2", "i2": "i1", "i3": "i3"}
    package = tmp_path / "loops.json"
    package.write_text(json.dumps(_chain_package(links)), encoding="utf-8")
    result = case_import.read_case_package(package)
    loops = [d for d in result.diagnostics if d.code == "case-hierarchy-cycle"]
    # i1 comes first of its loop; i0 keeps its parent (it is not in the loop).
    assert sorted(d.pointer or "" for d in loops) == ["/CFItems/1", "/CFItems/3"]


def test_case_integers_written_as_text_are_read_only_when_safe() -> None:
    from mastery_cli.interop.case_model import coerce

    assert coerce(" -12 ", "int") == -12
    assert [coerce(text, "int") for text in ("--5", "²", "1" * 5000)] == [None, None, None]


def test_not_json_is_still_case_not_json(tmp_path: Path) -> None:
    package = tmp_path / "broken.json"
    package.write_text('{"CFDocument": [[[', encoding="utf-8")
    with pytest.raises(MasteryError) as caught:
        case_import.read_case_package(package)
    assert caught.value.diagnostics[0].code == "case-not-json"
