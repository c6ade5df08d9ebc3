"""The column-at-a-time pieces behind `mastery grade`'s speed, checked against the plain,
one-value-at-a-time definitions they replace (Python's csv writer, `format_decimal`, sorting
by text, pandas merges)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastery_cli.grading.csvsniff import read_records, sniff
from mastery_cli.grading.formats import code, code_all
from mastery_cli.grading.outputs import csv_bytes, decimals
from mastery_cli.grading.pipeline import group_index
from mastery_cli.grading.rounding import format_decimal
from mastery_cli.output import neutralize_formula

cells = st.text(alphabet=st.sampled_from(list('ab ,"\n\r=+-@\t\'é1.')), max_size=6)


def reference_csv(rows: list[list[str]], header: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[neutralize_formula(c) for c in row] for row in rows])
    return out.getvalue().encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(cells, cells, cells), max_size=8), st.booleans())
def test_csv_cells_are_written_like_the_csv_module(rows, categorical):
    header = ["student_id", "student_name", "comment"]
    table = pd.DataFrame(rows, columns=header).astype("str")
    if categorical:
        table = table.astype("category")
    expected = reference_csv([list(r) for r in rows], header)
    assert csv_bytes(table, header, 2) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.floats(min_value=-5, max_value=5),
            st.sampled_from([2.675, 2.665, -2.5, 0.005, -0.005, 1e16, 4503599627370497.0]),
        ),
        max_size=20,
    ),
    st.integers(min_value=0, max_value=4),
)
def test_decimal_columns_match_format_decimal(values, places):
    # format_decimal prints NaN as "" and infinities as inf/-inf, like the column version.
    expected = [format_decimal(v, places) for v in values]
    assert decimals(np.array(values, dtype=np.float64), places).tolist() == expected


@pytest.mark.parametrize("key_count", [10, 10**9])  # bincount path, hash path
def test_group_index_numbers_groups_in_key_order(key_count):
    keys = np.array([7, 3, 7, 0, 3, 9], dtype=np.int64)
    groups, group_keys = group_index(keys, key_count)
    assert group_keys.tolist() == [0, 3, 7, 9]
    assert group_keys[groups].tolist() == keys.tolist()


def test_code_of_a_chunked_column_equals_code_of_the_whole():
    chunked = pa.chunked_array([["b", "a"], ["c", "a"], [], ["b"]])
    coded = code(chunked)
    assert [coded.values[c] for c in coded.codes] == ["b", "a", "c", "a", "b"]
    both = code_all([chunked, pa.array(["x", "x"])])
    assert [both[1].values[c] for c in both[1].codes] == ["x", "x"]


def test_quoted_newline_after_the_sample_is_read_with_its_physical_lines():
    # The sniffing sample (64 KB) has no quoted line break; one far below must still be read
    # as one record, and every later record must point at its own physical line.
    rows = [f"s{i},T1,3" for i in range(8000)]
    rows[7000] = 's7000,"T1\nstill T1",3'
    data = ("student_id,target,score\n" + "\n".join(rows) + "\n").encode()
    records = read_records(sniff(data, "f.csv"), "f.csv")
    assert records.count == 8000
    assert records.column(1)[7000].as_py() == "T1\nstill T1"
    assert records.lines[7000] == 7002 and records.lines[7001] == 7004
    assert not records.bad_lines


def test_evidence_text_columns_are_categorical_with_sorted_texts(tmp_path):
    from mastery_cli.grading.ingest import IngestConfig, read_evidence
    from mastery_cli.validation import load_framework

    framework, _ = load_framework(Path(__file__).resolve().parent / "data" / "gradebooks"
                                  / "framework")
    file = tmp_path / "scores.csv"
    file.write_text(
        "student_id,target,score,type\nb2,MATH.ALG.1,3,Quiz\na1,MATH.ALG.1,2, quiz \n",
        encoding="utf-8",
    )
    frame = read_evidence([file], framework, IngestConfig()).frame
    assert isinstance(frame["student_id"].dtype, pd.CategoricalDtype)
    assert list(frame["student_id"].cat.categories) == ["a1", "b2"]
    assert frame["student_id"].tolist() == ["b2", "a1"]  # rows keep file order
    assert frame["type"].tolist() == ["quiz", "quiz"]  # trimmed, lower-cased, one category
    assert list(frame["type"].cat.categories) == ["quiz"]
    assert not math.isnan(frame["score"].iloc[0])
