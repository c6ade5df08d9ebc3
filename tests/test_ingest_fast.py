"""The gradebook reader without pandas and pyarrow.compute equals the reader it replaced.

`reference_ingest` is a verbatim copy of the reader before the change (pandas DataFrames,
pyarrow.compute kernels, pandas' ``to_datetime``); every comparison here is against it, on
generated long files (BOMs, ``;`` and tabs, CRLF, quotes and quoted line breaks, blanks, EX/M,
labels, bad dates, unknown targets, duplicates, leading-zero ids, names that conflict), on every
gradebook of tests/data and on a file big enough to be parsed in many blocks and memory-mapped.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import reference_ingest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from test_ingest import READABLE

from mastery_cli.diagnostics import MasteryError
from mastery_cli.framework.model import Framework
from mastery_cli.grading import ingest
from mastery_cli.grading.csvsniff import ColumnCodes, count_newlines, read_input
from mastery_cli.grading.ingest import IngestConfig, read_evidence
from mastery_cli.validation import load_framework

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "gradebooks"


@pytest.fixture(scope="module")
def framework() -> Framework:
    loaded, _ = load_framework(DATA / "framework")
    return loaded


def outcome(read: Any, files: list[Path], framework: Framework, **config: Any) -> Any:
    """What a reader gives: the evidence set, or the diagnostics it stopped with."""
    module = reference_ingest if read is reference_ingest.read_evidence else ingest
    try:
        return read(files, framework, module.IngestConfig(**config))
    except MasteryError as stop:
        return stop.diagnostics


def assert_same(files: list[Path], framework: Framework, **config: Any) -> None:
    new = outcome(read_evidence, files, framework, **config)
    old = outcome(reference_ingest.read_evidence, files, framework, **config)
    if isinstance(old, list) or isinstance(new, list):
        assert new == old
        return
    # The columns of learning outside school (artifact, approval) are newer than the reference.
    assert set(new.frame.columns) - set(old.frame.columns) == {
        "artifact", "approved_by", "approved_on", "criterion_weight", "score_cell"}
    pd.testing.assert_frame_equal(new.frame[list(old.frame.columns)], old.frame)
    pd.testing.assert_frame_equal(new.rejects, old.rejects)
    assert new.diagnostics == old.diagnostics
    assert new.rows_read == old.rows_read
    # decimal_marks is new: the reference has no such field.
    assert [{k: v for k, v in dataclasses.asdict(f).items()
             if k not in ("decimal_marks", "headers")}
            for f in new.files] == [dataclasses.asdict(f) for f in old.files]
    assert (new.set_aside, new.rejected, new.duplicates_dropped) == (
        old.set_aside,
        old.rejected,
        old.duplicates_dropped,
    )
    assert new.summary() == old.summary()
    # The table is what the frame is made from, and agrees with it column by column.
    assert list(new.table.columns) == list(ingest.FRAME_COLUMNS)
    assert len(new.table) == len(new.frame)
    assert new.table.array("seq").tolist() == list(range(len(new.table)))
    assert new.reject_table.array("row").dtype == np.int64


# --------------------------------------------------------------------------- generated files

HEADERS = (
    ["student_id", "student_name", "target", "score", "date", "assessment", "type", "comment"],
    ["Student ID", "Name", "Standard", "Level", "Assessed On", "Assignment", "Category", "Notes"],
)
ids = st.sampled_from(["0012345", "0067890", "007", " 0099 ", "0099", "", "00123"])
names = st.sampled_from(["Rivera, Ana", "Chen; Bo", "Ana", " Ana ", "Bo", "", '="Zoë"', "Zoë"])
targets = st.sampled_from(
    [
        "MATH.ALG.1",
        "math.alg.1",
        " MATH.ALG.2 ",
        "HAB.COL.1",
        "MATH.ALG",
        "NOPE.1",
        "",
        "Solve linear equations",
        "CCSS.MATH.HSA.REI.B.3",
        "MATH.ALG.1: Solve",
    ]
)
scores = st.sampled_from(
    [
        "1",
        "2.5",
        "4",
        " 3 ",
        "Proficient",
        "proficient",
        "P",
        "U",
        "Usually",
        "Competente",
        "EX",
        "ex",
        "M",
        "missing",
        "",
        "N/A",
        "-",
        "5",
        "abc",
        "0",
        "3,5",
    ]
)
dates = st.sampled_from(
    [
        "2025-09-01",
        "09/15/2025",
        "",
        "2025-02-30",
        "yesterday",
        "2025-09-01T10:15:00Z",
        "2025-09-01 10:15",
        "9/1/25",
        "2025/9/1",
        "20250901",
        "2025-09-01+02:00",
        "01.09.2025",
        "9/1/2025 1:05 PM",
        "2025-09",
        " 2025-09-03 ",
        "2025-09-01T10:15:30.123456789",
    ]
)
assessments = st.sampled_from(["Q1", "Q2", " Q1 ", "Quiz, part 2", "two\nlines", 'say "hi"'])
types = st.sampled_from(["Formative", "formative", "SUMMATIVE", "", "İlk", "ΣΑΣ", " Práctica "])
comments = st.sampled_from(["", "ok", "Good work,\r\nkeep going", "  "])
record = st.tuples(ids, names, targets, scores, dates, assessments, types, comments)
blank = st.sampled_from([("",) * 8, (" ", "", "", "  ", "", "", "", "")])


@st.composite
def gradebooks(draw: st.DrawFn) -> tuple[list[tuple[str, ...]], dict[str, Any]]:
    rows = draw(st.lists(st.one_of(record, record, record, blank), min_size=0, max_size=30))
    copies = draw(st.lists(st.integers(0, 100), max_size=4)) if rows else []
    rows += [rows[i % len(rows)] for i in copies]  # exact duplicates, anywhere later
    shape = {
        "header": draw(st.sampled_from(HEADERS)),
        "delimiter": draw(st.sampled_from([",", ";", "\t"])),
        "newline": draw(st.sampled_from(["\n", "\r\n"])),
        "quoting": draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig"])),
    }
    return rows, shape


def write(path: Path, rows: list[tuple[str, ...]], shape: dict[str, Any]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=shape["delimiter"],
        lineterminator=shape["newline"],
        quoting=shape["quoting"],
    )
    writer.writerow(shape["header"])
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(shape["encoding"]))
    return path


configs = st.fixed_dictionaries(
    {},
    optional={
        "keep_duplicates": st.booleans(),
        "missing": st.sampled_from(["ignore", 0, 1.5]),
        "date_format": st.sampled_from(["%d.%m.%Y", "%Y-%m-%d", "%m/%d/%Y %H:%M"]),
        "decimal": st.sampled_from([",", ".", "comma"]),
    },
)

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(book=gradebooks(), config=configs)
@example(book=([], {"header": HEADERS[0], "delimiter": ",", "newline": "\n",
                   "quoting": csv.QUOTE_MINIMAL, "encoding": "utf-8"}), config={})
def test_long_files_read_as_before(framework, tmp_path, book, config):
    rows, shape = book
    assert_same([write(tmp_path / "a.csv", rows, shape)], framework, **config)


@SETTINGS
@given(first=gradebooks(), second=gradebooks(), config=configs)
def test_several_files_read_as_before(framework, tmp_path, first, second, config):
    files = [write(tmp_path / "a.csv", *first), write(tmp_path / "b.tsv", *second)]
    assert_same(files, framework, **config)


@pytest.mark.parametrize(
    ("name", "config"),
    [
        *READABLE,  # the test data test_ingest reads, and then the files it cannot read
        ("long_basic.csv", {"keep_duplicates": True, "missing": 0}),
        ("empty.csv", {}),
        ("unknown_header.csv", {}),
        ("missing.csv", {}),
    ],
)
def test_every_export_of_the_test_data_reads_as_before(framework, name, config):
    assert_same([DATA / name], framework, **config)


def test_all_test_exports_together_read_as_before(framework):
    names = ["long_basic.csv", "wide.csv", "long_excel_eu.csv", "canvas_lmgb.csv",
             "canvas_results_17.csv", "long_tab.tsv"]
    assert_same([DATA / n for n in names], framework)


def test_the_example_school_and_the_golden_scores_read_as_before():
    school, _ = load_framework(ROOT / "examples" / "framework")
    assert_same(sorted((ROOT / "examples" / "gradebook").glob("*.csv")), school)
    golden = ROOT / "tests" / "golden" / "grade" / "inputs"
    scores, _ = load_framework(golden / "framework.yaml")
    assert_same([golden / "scores.csv"], scores)


def test_wide_export_whose_columns_hold_hundreds_of_texts_reads_as_before(framework, tmp_path):
    # More distinct texts per column than a small code type holds, in several columns.
    rng = np.random.default_rng(5)
    lines = ["student_id,student_name,assessment,date,MATH.ALG.1,MATH.ALG.2,HAB.COL.1,NOPE.2"]
    for i in range(3000):
        # 100 texts per column: codes of one byte, while all columns together hold 400.
        cells = [f"{1 + rng.integers(100) * 0.03:.2f}" if rng.random() > 0.1 else ""
                 for _ in range(4)]
        lines.append(f"{i % 700:05d},Student {i % 700},Quiz {i % 40},2025-09-{1 + i % 28:02d},"
                     + ",".join(cells))
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_same([path], framework)


def test_mapped_export_reads_as_before(framework):
    columns = {
        "student_id": "Student_Number",
        "student_name": "LastFirst",
        "target": "Standard Identifier",
        "score": "Standard Score",
        "date": "Score Entry Date",
        "assessment": "Assignment Name",
    }
    assert_same([DATA / "powerschool_mapped.csv"], framework, columns=columns,
                input_format="mapped")


def big_gradebook(path: Path, rows: int, seed: int = 7) -> Path:
    """A long export of ``rows`` records (several MB: many parse blocks, memory-mapped) with
    every kind of cell, duplicates, padding rows, quoted fields and names that conflict."""
    rng = np.random.default_rng(seed)
    students = [f"{i:07d}" for i in range(1, 400)]
    people = ["Rivera, Ana", "Chen, Bo", "Núñez, José", "Müller, Zoë", "Diallo; Awa"]
    target_texts = ["MATH.ALG.1", "MATH.ALG.2", "HAB.COL.1", "MATH.ALG", "NOPE.9", "",
                    " MATH.ALG.3 ", "Solve linear equations"]
    score_texts = ["1", "2", "3", "4", "2.5", "EX", "M", "", "Proficient", "U", "7", "x"]
    date_texts = [f"2025-{m:02d}-{d:02d}" for m in (9, 10, 11) for d in range(1, 29)]
    date_texts += ["09/15/2025", "2025-02-30", "", "2025-09-01T08:00:00Z"]
    lines = ["Student ID,Name,Target,Score,Date,Assessment,Type,Section,Extra"]
    for i in range(rows):
        student = int(rng.integers(len(students)))
        name = people[student % len(people)] if rng.random() > 0.001 else "Someone Else"
        fields = [
            students[student],
            name,
            target_texts[int(rng.integers(len(target_texts)))],
            score_texts[int(rng.integers(len(score_texts)))],
            date_texts[int(rng.integers(len(date_texts)))],
            f"Task {int(rng.integers(40))}",
            ["formative", "Summative", "PRACTICE"][i % 3],
            f"P{i % 6}",
            str(int(rng.integers(3))),
        ]
        line = ",".join(f'"{f}"' if ("," in f or ";" in f) else f for f in fields)
        lines.append(line)
        if rng.random() < 0.003:
            lines.append(line)  # an exact copy
        if rng.random() < 0.001:
            lines.append(",,,,,,,,")  # spreadsheet padding
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_big_export_reads_as_before(framework, tmp_path):
    path = big_gradebook(tmp_path / "big.csv", 60_000)
    assert path.stat().st_size > 2 * 1024 * 1024  # memory-mapped, parsed in several blocks
    assert_same([path], framework)
    assert_same([path], framework, keep_duplicates=True)
    evidence = read_evidence([path], framework, IngestConfig())
    codes = [d.code for d in evidence.diagnostics]
    assert evidence.duplicates_dropped > 0 and "blank-rows" in codes  # both kinds were there


@pytest.mark.parametrize("oddity", ["blank line", "quoted line break", "both", "bad row"])
def test_a_big_export_with_lines_that_are_not_records_reads_as_before(framework, tmp_path,
                                                                      oddity):
    # Found when the lines are counted (the sample of the first 64 KB shows nothing): the file
    # is then parsed the careful way.
    path = big_gradebook(tmp_path / "big.csv", 30_000, seed=3)
    lines = path.read_text(encoding="utf-8").split("\n")
    if oddity in ("blank line", "both"):
        lines.insert(20_000, "")
    if oddity in ("quoted line break", "both"):
        lines.insert(25_000, '0000001,"Chen, Bo",MATH.ALG.1,3,2025-09-01,"Two\nlines",x,P1,0')
    if oddity == "bad row":
        lines[22_000] += ",one too many"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert path.stat().st_size > 1024 * 1024  # memory-mapped
    assert_same([path], framework)


# --------------------------------------------------------------------------- no pandas, no compute

CHILD = """
import sys, time
from pathlib import Path
from mastery_cli.validation import load_framework
from mastery_cli.grading.ingest import IngestConfig, read_evidence

framework, _ = load_framework(Path({framework!r}))
evidence = read_evidence([Path(p) for p in {files!r}], framework, IngestConfig())
assert len(evidence.table) > 0 and len(evidence.reject_table) > 0
assert evidence.set_aside + evidence.rejected == len(evidence.reject_table)
evidence.summary()
print("pandas" in sys.modules, "pyarrow.compute" in sys.modules)
import pyarrow as pa
start = time.perf_counter()
pa.array([1, 2]).dictionary_encode()  # the first compute call initialises every kernel
print(time.perf_counter() - start)
"""


def run_child(files: list[Path]) -> tuple[str, float]:
    code = CHILD.format(framework=str(DATA / "framework"), files=[str(f) for f in files])
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    modules, seconds = done.stdout.split("\n")[:2]
    return modules, float(seconds)


def test_reading_imports_no_pandas_and_runs_no_compute_kernel(tmp_path):
    rows = [
        ("0012345", "Rivera, Ana", "MATH.ALG.1", "3", "2025-09-01", "Q1", "Formative", ""),
        ("0012345", "Rivera, Ana", "MATH.ALG.1", "3", "2025-09-01", "Q1", "Formative", ""),
        ("0067890", "Chen, Bo", "NOPE.1", "x", "2025-02-30", "Q2", "İlk", "two\nlines"),
        ("0067890", "Chen, Bo", "HAB.COL.1", "", "09/15/2025", "Q2", "summative", ""),
        ("", "", "", "", "", "", "", ""),
        ("0099", "Zoë", "MATH.ALG.2", "EX", "", "Q3", "", ""),
    ]
    shapes = [
        {"header": HEADERS[1], "delimiter": ";", "newline": "\r\n", "quoting": csv.QUOTE_ALL,
         "encoding": "utf-8-sig"},
        {"header": HEADERS[0], "delimiter": "\t", "newline": "\n",
         "quoting": csv.QUOTE_MINIMAL, "encoding": "utf-8"},
    ]
    files = [write(tmp_path / f"f{i}.csv", rows, shape) for i, shape in enumerate(shapes)]
    files.append(big_gradebook(tmp_path / "big.csv", 20_000))
    # Every other format too: Excel Europe, Windows-1252, tabs, wide, both Canvas exports.
    files += [DATA / n for n in ("long_excel_eu.csv", "long_cp1252.csv", "long_tab.tsv",
                                 "wide.csv", "canvas_results_32.csv", "canvas_results_17.csv",
                                 "canvas_lmgb.csv", "canvas_lmgb_nosis.csv")]
    modules, first_kernel = run_child(files)
    assert modules == "False False"  # neither pandas nor pyarrow.compute was imported
    # Had anything run a compute kernel, the kernels would be registered and this call would
    # take microseconds; registering them takes a tenth of a second or more.
    assert first_kernel > 0.01


# --------------------------------------------------------------------------- the pieces

PANDAS_DATES = [
    "2025-09-06", "2025-9-6", "2025/09/06", "2025.09.06", "2025 09 06", "20250906", "2025-09",
    "2025", "2025-09-06T10:15", "2025-09-06 10:15:30.123456789", "2025-09-06T10",
    "2025-09-06T1015", "2025-09-06 7:05", "9/6/2025", "09/06/2025 10:15", "9/6/25",
    "9/6/2025 1:05 PM", "2025-09-06T10:00+05:30", "2025-09-06Z", "NaT", "nan", "2025-02-29",
    "2024-02-29", "2025-09-06T24:00", "  2025-09-06", "2025\\09\\06",
    "2025-09-06T10:15:30.1234567891234", "9/6/2025 13:05", "2262-04-11", "1677-09-22",
    "2025-09-06t10:00", "2025-09-06 10:15 PM", "+2025-01-01", "20250906T1015", "2025-0906",
    "202509-06", "2025-09-06 10:15:30 +0100", "2025-09-06 10:15:30 EST", "٢٠٢٥-٠٩-٠٦",
    "2025-09-06T10:15:30.", "9 /6/2025", "09/06/2025 10:15:30", "2025-13-01", "2025-00-10",
    "2025-1-1", "2025-01-1", "25-01-01", "2025-09-06T10:15:30.1", "2025-09-06 10:15:30",
    "2025-09-06 10:15:3", "2025-09-06T10:1", "2025-09-06T1:15", "2025-09-06T10:15:30Z",
    "2025-09-06T101530", "2025-09-06T10153", "2025-09-06T10:15:30-0800", "12/31/99",
    "1/1/70", "1/1/69", "02/29/2024 12:00 AM", "02/29/2024 12:00 PM", "13/01/2025", "",
    "2025-09-06T10:15:30.123+01:00", "2025-09-06T10:15:30.123Z",
]


def reference_dates(texts: list[str], date_format: str | None) -> tuple[list[Any], list[bool]]:
    values, bad = reference_ingest.parse_dates(texts, date_format)
    return [str(v) for v in values], bad.tolist()


def new_dates(texts: list[str], date_format: str | None) -> tuple[list[Any], list[bool]]:
    values, bad = ingest.parse_dates(texts, date_format)
    return [str(v) for v in values], bad.tolist()


def comparable(text: str, date_format: str | None) -> bool:
    """Whether the old reader gave an answer for ``text`` (it stopped with a traceback on dates
    outside 1677-2262 and on time zones its suffix rule left)."""
    try:
        reference_ingest.parse_dates([text], date_format)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


@pytest.mark.parametrize("date_format", [None, "%d.%m.%Y", "%Y-%m-%d", "%Y%m%d", "ISO8601",
                                         "%m/%d/%Y %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f"])
def test_dates_read_as_pandas_read_them(date_format):
    texts = [t for t in PANDAS_DATES if comparable(t, date_format)]
    assert len(texts) > 50
    assert new_dates(texts, date_format) == reference_dates(texts, date_format)
    # One text at a time too (pandas decides some things over the whole column).
    for text in texts:
        assert new_dates([text], date_format) == reference_dates([text], date_format), text


date_texts = st.builds(
    "".join,
    st.lists(
        st.sampled_from(["2025", "2024", "1999", "09", "9", "02", "29", "31", "12", "0", "-",
                         "/", ".", " ", "T", ":", "10", "15", "30", "Z", "+", "05", "123",
                         "456789", "AM", "PM", "\\"]),
        max_size=9,
    ),
)


@settings(max_examples=400, deadline=None)
@given(text=date_texts, date_format=st.sampled_from([None, "%Y-%m-%d", "%d/%m/%Y %H:%M"]))
def test_generated_dates_read_as_pandas_read_them(text, date_format):
    assume(comparable(text, date_format))
    assert new_dates([text], date_format) == reference_dates([text], date_format)


def test_dates_the_old_reader_stopped_on_are_bad_dates():
    values, bad = ingest.parse_dates(
        ["1500-01-01", "2300-01-01", "today", "now", "2025-09-06T10:00+5", "2025-09-06"], None
    )
    assert bad.tolist() == [True, True, True, True, False, False]
    assert str(values[4]) == "2025-09-06T10:00:00.000000000"  # its time zone is dropped


def test_lower_case_equals_pyarrows():
    chars = [chr(c) for c in range(sys.maxunicode + 1)
             if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) != "Cn"]
    texts = [*chars, "ΣΑΣ", "ΑΣ Β", "İSTANBUL", "Évaluation Formative", "ǅemal"]
    expected = pc.utf8_lower(pa.array(texts, pa.string())).to_pylist()
    assert ingest._lower(texts) == expected
    unassigned = [chr(c) for c in (0x1C89, 0xA7CB, 0x10D50, 0x0378)]  # Cn for Python 3.11
    assert ingest._lower(unassigned) == pc.utf8_lower(pa.array(unassigned)).to_pylist()


def test_strip_equals_pyarrows_trim():
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    texts = [f"{c}a{c}b{c}" for c in chars] + [c * 3 for c in chars[:0x3000]]
    trimmed = pc.utf8_trim_whitespace(pa.array(texts, pa.string())).to_pylist()
    assert [t.strip() for t in texts] == trimmed


@settings(max_examples=100, deadline=None)
@given(
    blocks=st.lists(st.lists(st.sampled_from(["a", "b", "", " a", "é", "z" * 40]), max_size=30),
                    max_size=6),
    cut=st.integers(0, 5),
    data=st.data(),
)
def test_column_codes_join_block_dictionaries(blocks, cut, data):
    chunks = [pa.array(b, pa.string()).dictionary_encode() for b in blocks]
    column = pa.chunked_array(chunks, type=pa.dictionary(pa.int32(), pa.string()))
    column = column.slice(min(cut, len(column)))  # as the header record is cut off
    expected = pc.dictionary_encode(column.cast(pa.string())).combine_chunks()
    coded = ColumnCodes.of(column)
    assert coded.values == expected.dictionary.to_pylist()  # order of first appearance
    texts = np.array([*coded.values, ""], dtype=object)
    assert texts[coded.codes].tolist() == column.cast(pa.string()).to_pylist()
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=len(column),
                                       max_size=len(column))), dtype=bool)
    again = ColumnCodes.of(column)  # codes not made yet: from the blocks
    assert again.where(mask).tolist() == coded.codes[mask].tolist()
    rows = np.flatnonzero(mask)
    assert ColumnCodes.of(column).at(rows).tolist() == coded.codes[rows].tolist()


@settings(max_examples=60, deadline=None)
@given(
    size=st.sampled_from([0, 1, 2, 50, 3000, 20_000]),
    span=st.sampled_from([1, 5, 100, 5000, 10_000, 10**6, 2**40]),
    most_bits=st.sampled_from([0, 24]),
    data=st.data(),
)
def test_repeated_keys_are_found(size, span, most_bits, data):
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    key = rng.integers(0, span, size).astype(np.int64 if span > 2**31 else np.int32)
    among = rng.random(size) < 0.9
    counts: dict[int, int] = {}
    for k in key.tolist():
        counts[k] = counts.get(k, 0) + 1
    expected = [i for i, k in enumerate(key.tolist()) if counts[k] > 1 and among[i]]
    old = ingest._MOST_BITS
    ingest._MOST_BITS = most_bits  # 0: the sort used when nearly every key repeats
    # (20,000 keys below 10,000: some 6,000 repeated keys, a bit table of 2**17.)
    try:
        assert ingest._repeated(key, among).tolist() == expected
    finally:
        ingest._MOST_BITS = old


def test_first_rows_of_keys():
    rng = np.random.default_rng(3)
    for key in (rng.integers(0, 50, 1000), np.sort(rng.integers(0, 10**9, 1000)),
                rng.integers(0, 10**9, 1000), np.zeros(0, dtype=np.int64)):
        first: dict[int, int] = {}
        for i, k in enumerate(key.tolist()):
            first.setdefault(k, i)
        assert ingest._first_rows(key).tolist() == sorted(first.values())


def test_newlines_are_counted_in_blocks_of_a_memory_map(tmp_path):
    body = b"a,b\r\n" + b"x" * 3_000_000 + b"\n" + b"1,2\n" * 300_000 + b"3,4"
    path = tmp_path / "f.csv"
    path.write_bytes(body)
    raw = read_input(path)
    assert not isinstance(raw, bytes)  # large: memory-mapped
    assert count_newlines(memoryview(raw)) == body.count(b"\n") == 300_002
    assert count_newlines(body, 10) == body.count(b"\n", 0, 10)
