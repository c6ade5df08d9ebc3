"""The light tables of the grading engine, against what pandas does with the same data."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastery_cli.grading.pipeline import dense_rank
from mastery_cli.grading.table import (
    Coded,
    Flags,
    Table,
    coded,
    first_in_group,
    first_rows,
    text_codes,
    unique_in_order,
)

texts = st.lists(st.text(max_size=4), min_size=1, max_size=6)


@given(texts, st.lists(st.integers(min_value=-1, max_value=5), max_size=30))
def test_text_codes_order_and_group_like_the_texts(distinct, raw_codes):
    codes = np.array([c if c < len(distinct) else -1 for c in raw_codes], dtype=np.int64)
    column = Coded(codes, distinct)
    sorted_codes, sorted_texts = text_codes(column)
    assert sorted_texts == sorted(set(sorted_texts))
    expected = ["" if c < 0 else distinct[c] for c in codes.tolist()]
    assert [sorted_texts[c] for c in sorted_codes.tolist()] == expected
    assert column.values().tolist() == expected


@given(texts, st.lists(st.integers(min_value=0, max_value=5), max_size=30))
def test_to_pandas_gives_categoricals_of_the_used_texts_sorted(distinct, raw_codes):
    codes = np.array([c % len(distinct) for c in raw_codes], dtype=np.int64)
    frame = Table({"t": coded(distinct, codes)}, len(codes)).to_pandas()
    values = [distinct[c] for c in codes.tolist()]
    assert frame["t"].astype(object).tolist() == values
    assert frame["t"].cat.categories.tolist() == sorted(set(values))


def test_round_trip_through_pandas_keeps_every_kind_of_column():
    table = Table(
        {
            "id": coded(["b", "a"], np.array([0, 1, 0])),
            "score": np.array([1.5, np.nan, 3.0]),
            "count": np.array([1, 2, 3], dtype=np.int64),
            "mastered": Flags(np.array([True, False, True]), np.array([True, True, False])),
            "when": np.array(["2025-01-02", "NaT", "2025-03-04"], dtype="datetime64[ns]"),
            "message": np.array(["x", "", "z"], dtype=object),
        }
    )
    frame = table.to_pandas()
    assert frame["mastered"].tolist() == [True, False, pd.NA]
    back = Table.from_pandas(frame)
    pd.testing.assert_frame_equal(back.to_pandas(), frame)
    assert back.coded("id").values().tolist() == ["b", "a", "b"]
    assert back["mastered"].true().tolist() == [True, False, False]  # type: ignore[union-attr]


def test_columns_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="different lengths"):
        Table({"a": np.zeros(2), "b": np.zeros(3)})


@given(st.lists(st.integers(min_value=0, max_value=6), max_size=40))
def test_first_in_group_and_unique_in_order_are_pandas_duplicated_and_unique(keys):
    array = np.array(keys, dtype=np.int64)
    assert first_in_group(array).tolist() == (~pd.Series(array).duplicated()).tolist()
    assert unique_in_order(array).tolist() == pd.unique(array).tolist()


day = 86_400 * 10**9
date_values = st.one_of(
    st.integers(min_value=-400, max_value=400).map(lambda d: d * day),  # whole days
    st.integers(min_value=-(2**62), max_value=2**62),  # times of day, centuries apart
    st.sampled_from([np.iinfo(np.int64).min, np.iinfo(np.int64).max]),  # undated
)


@settings(max_examples=300)
@given(st.lists(date_values, max_size=40))
def test_dense_rank_is_the_rank_among_distinct_values(values):
    array = np.array(values, dtype=np.int64)
    ranks, count = dense_rank(array)
    distinct = sorted(set(values))
    assert count == len(distinct)
    assert ranks.tolist() == [distinct.index(v) for v in values]


def test_the_engine_modules_do_not_import_pandas():
    code = (
        "import sys\n"
        "import mastery_cli.grading.pipeline, mastery_cli.grading.table\n"
        "assert 'pandas' not in sys.modules, 'pandas imported'\n"
        "assert 'pyarrow.compute' not in sys.modules, 'pyarrow.compute imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@given(st.lists(st.integers(min_value=0, max_value=6), max_size=40))
def test_first_rows_is_the_first_position_of_each_code(codes):
    first = first_rows(np.array(codes, dtype=np.int64), 7)
    assert first.tolist() == [codes.index(c) if c in codes else -1 for c in range(7)]


def test_gathers_equal_numpy_indexing() -> None:
    from mastery_cli.grading.table import gather, gather_where

    rng = np.random.default_rng(7)
    table = np.array([10, 20, 30, 40], dtype=np.int16)
    for size in (0, 5, 65_536, 200_003):  # none, one block, exactly one, several and a tail
        codes = rng.integers(-1, 4, size=size).astype(np.int8)  # -1: the last entry
        mask = rng.random(size) < 0.7
        assert gather(table, codes).tolist() == table[codes].tolist()
        assert gather_where(table, codes, mask).tolist() == table[codes[mask]].tolist()
        assert gather(table, codes).dtype == table.dtype


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet=st.sampled_from(list("ab Z,é\t𝄞")), max_size=4),
                          st.none(), st.integers(-3, 3), st.floats(allow_nan=True)),
                max_size=40))
def test_objects_are_coded_as_numpy_sorts_their_texts(values: list[object]) -> None:
    """A column of objects reads as the sorted distinct texts numpy gives (``str`` of each),
    each row coded into them: the order the rows not used are sorted in."""
    column = np.array([*values, None], dtype=object)[: len(values)]
    coded = Table({"v": column}).coded("v")
    texts, codes = np.unique(np.asarray(column, dtype=str), return_inverse=True)
    assert coded.texts == [str(t) for t in texts]
    assert coded.codes.tolist() == codes.reshape(-1).tolist()
    assert coded.codes.dtype == np.int64
