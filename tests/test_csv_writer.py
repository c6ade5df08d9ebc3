"""The CSV writer of the result files (`mastery_cli.grading.outputs`): the bytes of every kind
of cell, against golden files, explicit expected text and Python's csv module.

The golden files in tests/golden/csv_writer/ were written by the byte-matrix writer this one
replaced, from `csv_writer_cases.awkward_table` (set MASTERY_UPDATE_GOLDEN=1 to rewrite them
after a deliberate change).
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from csv_writer_cases import COLUMNS, awkward_table
from hypothesis import given, settings
from hypothesis import strategies as st

from mastery_cli.grading import outputs
from mastery_cli.grading.outputs import (
    CSV_FILES,
    REJECTS_CSV_COLUMNS,
    csv_bytes,
    csv_chunks,
    csv_text,
    decimals,
)
from mastery_cli.grading.rounding import format_decimal
from mastery_cli.grading.table import Coded, Flags, Table
from mastery_cli.output import neutralize_formula

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "csv_writer"
UPDATE = os.environ.get("MASTERY_UPDATE_GOLDEN") == "1"


def written(table: Table | pd.DataFrame, columns: list[str], places: int = 2) -> list[str]:
    """The data lines of the CSV (the header left out)."""
    return csv_text(table, columns, places).split("\n")[1:-1]


# --------------------------------------------------------------------------------------------
# Golden files: every kind of column, awkward values, places 0 to 4
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("places", [0, 1, 2, 3, 4])
def test_awkward_table_is_written_as_the_golden_file(places: int) -> None:
    golden = GOLDEN / f"awkward-places-{places}.csv"
    data = csv_bytes(awkward_table(), COLUMNS, places)
    if UPDATE:
        golden.write_bytes(data)
    assert data == golden.read_bytes()


def test_the_golden_table_read_back_holds_its_rows_and_columns() -> None:
    # The golden bytes themselves parse as the table: 24 rows of 14 cells, quotes undone.
    rows = list(csv.reader(io.StringIO((GOLDEN / "awkward-places-2.csv").read_text("utf-8"),
                                       newline="")))
    assert rows[0] == COLUMNS
    assert len(rows) == 1 + len(awkward_table())
    assert {len(row) for row in rows} == {len(COLUMNS)}
    names = [row[1] for row in rows[1:]]
    assert names[:4] == ["plain", "Tanaka, Emma", 'Adams "AJ", Lena', "line\nbreak"]
    assert "'=1+1" in names and "-3" in names and "'-x" in names  # a number is not a formula


@pytest.mark.parametrize("batch", [1, 5, 24])
def test_batches_written_header_once_give_the_whole_table(batch: int) -> None:
    """The engine writes a file batch by batch: the first chunk is the header line, the rest
    the rows; batches' rows after one header are the table's bytes."""
    table = awkward_table()
    parts = []
    for start in range(0, len(table), batch):
        chunks = csv_chunks(table.take(np.arange(start, min(start + batch, len(table)))),
                            COLUMNS, 2)
        header = next(chunks)
        assert header == (",".join(COLUMNS) + "\n").encode()
        parts.append(b"".join(chunks))
    assert header + b"".join(parts) == (GOLDEN / "awkward-places-2.csv").read_bytes()


def test_rows_are_cut_into_chunks_and_none_is_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outputs, "_CHUNK_ROWS", 5)
    chunks = list(csv_chunks(awkward_table(), COLUMNS, 2))
    assert len(chunks) == 1 + 5  # the header, then 24 rows by 5
    assert b"".join(chunks) == (GOLDEN / "awkward-places-2.csv").read_bytes()


# --------------------------------------------------------------------------------------------
# Cells, by kind, as explicit text
# --------------------------------------------------------------------------------------------


def test_text_cells_are_quoted_only_where_needed_and_never_run_as_formulas() -> None:
    texts = ["plain", "Tanaka, Emma", 'say "hi"', "two\nlines", "=1+1", "+A1", "-x", "-3.5",
             "@SUM(A1)", "\tx", "Zoë 𝄞 €", "", "'already"]
    table = Table({"comment": Coded(np.arange(len(texts)), texts),
                   "evidence_count": np.ones(len(texts), dtype=np.int64)})
    assert written(table, ["comment", "evidence_count"], 0) == [
        "plain,1", '"Tanaka, Emma",1', '"say ""hi""",1', '"two', 'lines",1', "'=1+1,1",
        "'+A1,1", "'-x,1", "-3.5,1", "'@SUM(A1),1", "'\tx,1", "Zoë 𝄞 €,1", ",1", "'already,1"]
    assert csv_bytes(table, ["comment"], 0).decode("utf-8").count("𝄞") == 1  # UTF-8, as is


@pytest.mark.parametrize(("places", "expected"), [
    (0, ["3", "3", "0", "0", "1", "-3", "0", "0", "0", "", "inf", "-inf", "10000000000000000",
         "123456789"]),
    (1, ["2.7", "2.7", "0.1", "-0.1", "1.0", "-2.5", "0.0", "0.0", "0.0", "", "inf", "-inf",
         "10000000000000000.0", "123456789.1"]),
    (2, ["2.68", "2.67", "0.13", "-0.13", "1.01", "-2.50", "0.01", "-0.01", "0.00", "", "inf",
         "-inf", "10000000000000000.00", "123456789.13"]),
    (3, ["2.675", "2.665", "0.125", "-0.125", "1.005", "-2.500", "0.005", "-0.005", "-0.004", "",
         "inf", "-inf", "10000000000000000.000", "123456789.125"]),
    (4, ["2.6750", "2.6650", "0.1250", "-0.1250", "1.0050", "-2.5000", "0.0050", "-0.0050",
         "-0.0040", "", "inf", "-inf", "10000000000000000.0000", "123456789.1250"]),
])
def test_scores_are_plain_decimals_rounded_half_away_from_zero(places, expected) -> None:
    values = [2.675, 2.665, 0.125, -0.125, 1.005, -2.5, 0.005, -0.005, -0.004, np.nan, np.inf,
              -np.inf, 1e16, 123456789.125]
    assert decimals(np.array(values), places).tolist() == expected
    assert written(Table({"score": np.array(values)}), ["score", "missing"], places) == [
        f"{e}," for e in expected]


def test_negative_zero_is_written_as_zero() -> None:
    assert decimals(np.array([-0.0, -0.004, -1e-300]), 2).tolist() == ["0.00"] * 3
    assert written(Table({"level": np.array([-0.0, 0.0])}), ["level"]) == ["0", "0"]


def test_levels_booleans_counts_and_dates() -> None:
    table = Table({
        "level": np.array([3.0, 2.5, np.nan, 4.0]),
        "mastered": Flags(np.array([True, False, True, False]),
                          np.array([True, True, False, True])),
        "ready_to_advance": np.array([True, False, False, True]),
        "evidence_count": np.array([0, 2**63 - 1, -(2**63), 12], dtype=np.int64),
        "last_evidence_date": np.array(["2025-11-10T23:59", "NaT", "1969-12-31T06:00",
                                        "2026-02-28"], dtype="datetime64[ns]"),
        "status": Flags(np.array([True, False, True, True]),  # not a boolean column by name
                        np.array([True, True, False, True])),
    })
    assert written(table, table.columns) == [
        "3,true,true,0,2025-11-10,True",
        "2.5,false,false,9223372036854775807,,False",
        ",,false,-9223372036854775808,1969-12-31,",
        "4,false,true,12,2026-02-28,True",
    ]


def test_a_list_of_targets_is_one_text_cell() -> None:
    table = Table({"mastered": Coded(np.array([0, 1, -1]), ["A.1;A.2", ""]),
                   "next_target": np.array(["B.1", None, "=X"], dtype=object)})
    assert written(table, ["mastered", "next_target"]) == ["A.1;A.2,B.1", ",", ",'=X"]


def test_text_given_as_objects_reads_missing_values_as_empty() -> None:
    values = np.array(["a", None, float("nan"), pd.NA, 7, 2.5, True], dtype=object)
    assert written(Table({"message": values}), ["message", "row"]) == [
        "a,", ",", ",", ",", "7,", "2.5,", "True,"]


def test_tables_of_no_rows_or_no_columns() -> None:
    empty = Table({"student_id": np.zeros(0, dtype=object), "score": np.zeros(0)}, 0)
    assert csv_bytes(empty, ["student_id", "score", "missing"], 2) == (
        b"student_id,score,missing\n")
    three = Table({"score": np.array([1.0, 2.0, 3.0])})
    assert csv_bytes(three, [], 2) == b"\n\n\n\n"  # as the csv module writes rows of no cells
    assert list(csv_chunks(empty, ["score"], 2)) == [b"score\n"]


def test_a_lone_empty_cell_is_quoted() -> None:
    # A row of one empty cell would read as a blank line: the csv module writes "".
    table = Table({"target": Coded(np.array([0, -1, 1]), ["T.1", ""])})
    assert csv_bytes(table, ["target"], 2) == b'target\nT.1\n""\n""\n'
    assert csv_bytes(table, ["missing"], 2) == b'missing\n""\n""\n""\n'
    assert csv_bytes(Table({"": np.array(["x"], dtype=object)}), [""], 2) == b'""\nx\n'


def test_header_names_are_quoted_like_cells() -> None:
    table = Table({"a,b": np.array(["1"], dtype=object), 'say "x"': np.array(["2"], dtype=object)})
    assert csv_bytes(table, ["a,b", 'say "x"'], 2) == b'"a,b","say ""x"""\n1,2\n'


def test_a_large_text_list_shared_with_a_bigger_table() -> None:
    texts = [f"t{i:05d}" for i in range(5000)]
    table = Table({"target": Coded(np.array([4999, -1, 7, 7], dtype=np.int64), texts)})
    assert csv_bytes(table, ["target"], 2) == b'target\nt04999\n""\nt00007\nt00007\n'


def test_files_sharing_a_list_of_texts_each_get_their_own_rows() -> None:
    names = ["Ann", "Bo, B", "Ann", "=1+1", ""]  # repeated, quoted, formula-like, empty
    first = Table({"student_name": Coded(np.array([0, 1, 2, -1]), list(names))})
    second = Table({"student_name": Coded(np.array([3, 3, 1]), list(names))})
    assert csv_bytes(first, ["student_name"], 2) == b'student_name\nAnn\n"Bo, B"\nAnn\n""\n'
    assert csv_bytes(second, ["student_name"], 2) == b"student_name\n'=1+1\n'=1+1\n\"Bo, B\"\n"
    assert csv_bytes(first, ["student_name"], 2) == b'student_name\nAnn\n"Bo, B"\nAnn\n""\n'


def test_a_dataframe_is_written_as_its_table() -> None:
    frame = pd.DataFrame({
        "student_id": pd.Categorical(["2", "1", "2"]),
        "student_name": pd.array(["B, b", "=a", None], dtype="str"),
        "score": [1.005, -0.004, np.nan],
        "mastered": pd.array([True, None, False], dtype="boolean"),
        "last_evidence_date": pd.to_datetime(["2026-01-02T00:00", None, "2026-03-04T10:00"]),
    })
    assert csv_text(frame, list(frame.columns), 2).split("\n")[1:] == [
        '2,"B, b",1.01,true,2026-01-02', "1,'=a,0.00,,", "2,,,false,2026-03-04", ""]
    assert csv_bytes(frame, ["score"], 2) == csv_bytes(Table.from_pandas(frame), ["score"], 2)


# --------------------------------------------------------------------------------------------
# Properties, against independent definitions
# --------------------------------------------------------------------------------------------

#: Characters that matter to CSV, to spreadsheets (formula starts) and to UTF-8 widths.
ALPHABET = list('ab Z0.,"\r\n=+-@\t\'é€𝄞\x00;')
texts = st.text(alphabet=st.sampled_from(ALPHABET), max_size=7)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(texts, min_size=3, max_size=3), max_size=10),
       st.integers(min_value=0, max_value=3), st.booleans())
def test_text_tables_are_written_as_the_csv_module_writes_their_rows(rows, width, coded):
    """Row by row through `csv.writer` (carriage returns, lone empty cells and all) after
    `neutralize_formula`: the definition the writer's column-at-a-time cells must meet."""
    names = ["student_id", "student_name", "comment"][:width]
    columns = {}
    for i, name in enumerate(names):
        values = [row[i] for row in rows]
        if coded:
            distinct = list(dict.fromkeys(values))
            columns[name] = Coded(np.array([distinct.index(v) for v in values], dtype=np.int64),
                                  distinct)
        else:
            columns[name] = np.array([*values, None], dtype=object)[: len(values)]
    table = Table(columns, len(rows))
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([[neutralize_formula(cell) for cell in row[:width]] for row in rows])
    assert csv_bytes(table, names, 2) == expected.getvalue().encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                          st.floats(min_value=-5, max_value=5),
                          st.integers(min_value=-400, max_value=400).map(lambda i: i / 100)),
                max_size=30),
       st.integers(min_value=0, max_value=15))
def test_decimals_match_format_decimal(values, places):
    expected = [format_decimal(v, places) for v in values]
    assert decimals(np.array(values, dtype=np.float64), places).tolist() == expected


@pytest.mark.parametrize("places", [0, 1, 2, 3, 6])
def test_decimals_near_the_end_of_exact_digits(places):
    # Around 2**52 / 10 units the rounding switches to formatting values one by one.
    edge = 2.0**52 / 10 / 10**places
    values = np.array([np.nextafter(edge, 0), edge, np.nextafter(edge, np.inf), edge - 0.5,
                       edge + 0.5, -edge, edge * 10, (2 * np.floor(edge) + 1) / 2])
    expected = [format_decimal(v, places) for v in values.tolist()]
    assert decimals(values, places).tolist() == expected
    assert written(Table({"score": values}), ["score"], places) == expected


# --------------------------------------------------------------------------------------------
# Result files
# --------------------------------------------------------------------------------------------

REASONS = ["no-score", "duplicate-row", "unknown-target", "bad-date"]


@st.composite
def unused(draw: st.DrawFn, coded: bool) -> Table:
    rows = draw(st.integers(min_value=0, max_value=12))

    def text(options: list[str]) -> Coded | np.ndarray:
        values = draw(st.lists(st.sampled_from(options), min_size=rows, max_size=rows))
        if coded:
            return Coded(np.array([options.index(v) for v in values], dtype=np.int64), options)
        return np.array([*values, ""], dtype=object)[:rows]

    return Table({
        "file": text(["b.csv", "a.csv", "é.csv"]),
        "row": np.array(draw(st.lists(st.integers(2, 6), min_size=rows, max_size=rows)),
                        dtype=np.int64),
        "column": text(["score", "date", ""]),
        "value": text(["", "x", "=1", "a,b", "-2"]),
        "reason": text(REASONS),
        "message": text(["bad", "", 'why, "this"']),
    }, rows)


def plain_rows(table: Table) -> list[list[str]]:
    """The rows of a table of text columns and ``row``, as Python lists."""
    columns = [np.asarray(table[n].values() if isinstance(table[n], Coded) else table[n])
               for n in table.columns]
    return [[str(v) for v in row] for row in zip(*columns, strict=True)]


def sorted_unused(rejects: Table, set_aside: Table, *, in_engine: bool) -> bytes:
    """rejects.csv as the sink writes it, with the rows held in memory or in DuckDB."""
    import tempfile

    from mastery_cli.grading.engine.session import EngineOptions, connect
    from mastery_cli.grading.engine.sink import ResultSink

    with tempfile.TemporaryDirectory() as folder:
        connection = connect(EngineOptions(threads=1)) if in_engine else None
        sink = ResultSink(Path(folder), 2, connection=connection)
        sink.add_unused(rejects, origin=0)
        sink.add_unused(set_aside, origin=1)
        sink.finish()
        if connection is not None:
            connection.close()
        return (Path(folder) / "rejects.csv").read_bytes()


@settings(max_examples=200, deadline=None)
@given(unused(coded=False), unused(coded=True), st.booleans(), st.booleans())
def test_unused_rows_are_sorted_by_file_row_column_reason_value(rejects, set_aside, swap,
                                                                in_engine):
    """The one order of rejects.csv, whether the rows wait in memory (mastery's reader) or in
    DuckDB (the engine's reader)."""
    if swap:
        rejects, set_aside = set_aside, rejects
    names = ["file", "row", "column", "value", "reason", "message"]
    rows = plain_rows(rejects.select(names)) + plain_rows(set_aside.select(names))
    # sorted() is stable: on ties the reader's rows (rejects) stay first.
    rows.sort(key=lambda r: (r[0], int(r[1]), r[2], r[4], r[3]))
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(REJECTS_CSV_COLUMNS)
    writer.writerows([[f, row, "", column, neutralize_formula(value), reason, message]
                      for f, row, column, value, reason, message in rows])
    assert sorted_unused(rejects, set_aside, in_engine=in_engine) == (
        expected.getvalue().encode("utf-8"))


#: A grade result as the writer reads it (``tables`` and ``policy.places``), as code, so that
#: a fresh interpreter can build it without importing this module (and pandas with it).
STAND_IN = """
from types import SimpleNamespace
import numpy as np
from mastery_cli.grading.table import Coded, Flags, Table

ids = Coded(np.array([0, 0, 1], dtype=np.int64), ["0000001", "0000002"])
names = Coded(np.array([1, 1, 0], dtype=np.int64), ["O'Brien, Farid", "Tanaka, Emma"])
targets = Table({
    "student_id": ids, "student_name": names,
    "target": Coded(np.array([0, 1, 0], dtype=np.int64), ["T.1", "T.2"]),
    "competency": Coded(np.zeros(3, dtype=np.int64), ["T"]),
    "method": Coded(np.zeros(3, dtype=np.int64), ["decaying_average(weight=0.65)"]),
    "score": np.array([2.675, np.nan, 3.0]),
    "level": np.array([2.0, np.nan, 3.0]),
    "label": Coded(np.array([0, -1, 1], dtype=np.int64), ["Developing", "Proficient"]),
    "mastered": Flags(np.array([False, False, True]), np.array([True, False, True])),
    "evidence_count": np.array([4, 1, 3], dtype=np.int64),
    "status": Coded(np.array([0, 1, 0], dtype=np.int64), ["ok", "insufficient-evidence"]),
    "last_evidence_date": np.array(["2025-11-10", "NaT", "2025-12-03"], dtype="datetime64[ns]"),
})
rejects = Table({
    "file": np.array(["g.csv", "g.csv"], dtype=object),
    "row": np.array([9, 3], dtype=np.int64),
    "column": np.array(["score", "date"], dtype=object),
    "value": np.array(["=2+2", ""], dtype=object),
    "reason": np.array(["bad-score", "no-score"], dtype=object),
    "message": np.array(["not a number, nor a level", "no score"], dtype=object),
})
empty = Table({name: np.zeros(0, dtype=object) for name in ["student_id", "score"]}, 0)
result = SimpleNamespace(
    tables=SimpleNamespace(targets=targets, competencies=empty, courses=empty, progress=empty,
                           rejects=rejects, set_aside=rejects.take(np.zeros(0, dtype=np.int64))),
    policy=SimpleNamespace(places=2),
)
"""


def stand_in_result() -> SimpleNamespace:
    namespace: dict = {}
    exec(STAND_IN, namespace)
    return namespace["result"]


TARGET_LINES = [
    '0000001,"Tanaka, Emma",T.1,T,decaying_average(weight=0.65),2.68,2,Developing,false,'
    "4,ok,2025-11-10",
    '0000001,"Tanaka, Emma",T.2,T,decaying_average(weight=0.65),,,,,1,insufficient-evidence,',
    "0000002,\"O'Brien, Farid\",T.1,T,decaying_average(weight=0.65),3.00,3,Proficient,true,"
    "3,ok,2025-12-03",
]
REJECT_TEXT = (",".join(REJECTS_CSV_COLUMNS) + "\n"
               "g.csv,3,,date,,no-score,no score\n"
               "g.csv,9,,score,'=2+2,bad-score,\"not a number, nor a level\"\n")


def test_write_outputs_writes_the_five_files(tmp_path):
    from mastery_cli.grading.outputs import write_outputs

    written_paths = write_outputs(stand_in_result(), tmp_path)  # type: ignore[arg-type]
    assert [p.name for p in written_paths] == list(CSV_FILES)
    assert (tmp_path / "target_grades.csv").read_text(encoding="utf-8").splitlines()[1:] == (
        TARGET_LINES)
    assert (tmp_path / "rejects.csv").read_text(encoding="utf-8") == REJECT_TEXT
    assert (tmp_path / "course_grades.csv").read_text(encoding="utf-8").count("\n") == 1
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_a_run_failing_while_writing_leaves_nothing(tmp_path, monkeypatch):
    from mastery_cli.grading.engine.sink import ResultSink
    from mastery_cli.grading.outputs import write_outputs

    real_add = ResultSink.add

    def add_then_fail(self, tables):
        real_add(self, tables)
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(ResultSink, "add", add_then_fail)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        write_outputs(stand_in_result(), out)  # type: ignore[arg-type]
    assert not out.exists() or list(out.iterdir()) == []


def test_writing_tables_imports_neither_pandas_nor_pyarrow_compute(tmp_path):
    code = STAND_IN + textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from mastery_cli.grading.outputs import csv_bytes, write_outputs
        table = result.tables.targets
        assert csv_bytes(table, table.columns, 2).count(b"\\n") == 4
        write_outputs(result, Path({str(tmp_path)!r}))
        bad = sorted(m for m in sys.modules
                     if m.split(".")[0] == "pandas" or m.startswith("pyarrow.compute")
                     or m.endswith("json_output"))
        assert not bad, bad
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "target_grades.csv").exists()
