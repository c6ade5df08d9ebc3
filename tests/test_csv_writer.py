"""The numpy CSV writer against the pyarrow.compute writer it replaced, byte for byte.

`tests/reference_csv_writer.py` is the previous ``csv_bytes`` (and ``unused_rows``), copied
verbatim. Tables are generated with every kind of column and awkward values: text with commas,
quotes, line breaks, formula starts and multi-byte characters; scores with NaN, -0.0, half-way
values and huge or infinite values; unknown flags; missing dates; empty and one-column tables.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import reference_csv_writer as reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastery_cli.grading.outputs import CSV_FILES, csv_bytes, csv_text, decimals, unused_rows
from mastery_cli.grading.rounding import format_decimal
from mastery_cli.grading.table import Coded, Flags, Table

ROOT = Path(__file__).resolve().parents[1]

#: Characters that matter to CSV, to spreadsheets (formula starts) and to UTF-8 widths.
ALPHABET = list('ab Z0.,"\r\n=+-@\t\'é€𝄞\x00;')
texts = st.text(alphabet=st.sampled_from(ALPHABET), max_size=7)

#: Values where rounding or formatting could go wrong.
AWKWARD = [2.675, 2.665, 0.125, -0.125, 1.005, -2.5, 0.005, -0.005, -0.0, 0.0, 1e16, -1e16,
           4503599627370497.0, 450359962737.0495, 45035996273.70496, 2.0**52 / 1000,
           2.0**52 / 100 - 0.5, 1e300, -1e300, 5e-324, np.inf, -np.inf, np.nan, 123456789.125]
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-5, max_value=5),
    st.integers(min_value=-400, max_value=400).map(lambda i: i / 100),
    st.sampled_from(AWKWARD),
)
levels = st.one_of(st.sampled_from([1.0, 2.0, 2.5, 3.0, 4.0, -1.0, 0.0, -0.0, np.nan, np.inf]),
                   st.floats(allow_nan=True, allow_infinity=True))
flags = st.sampled_from([True, False, None])
dates = st.one_of(
    st.none(),
    st.integers(min_value=-(2**62), max_value=2**62),  # nanoseconds: 1823 to 2116, any time
)
integers = st.one_of(st.integers(min_value=-5, max_value=40),
                     st.integers(min_value=-(2**63), max_value=2**63 - 1))
places = st.one_of(st.integers(min_value=0, max_value=4), st.just(15))

#: One generator per kind of column the writer knows, named as in the result files.
KINDS = {
    "student_id": texts,
    "comment": st.one_of(texts, st.none()),
    "score": floats,
    "level": levels,
    "mastered": flags,
    "ready_to_advance": st.booleans(),
    "last_evidence_date": dates,
    "evidence_count": integers,
}


def frame_of(columns: dict[str, list], categorical: bool) -> pd.DataFrame:
    """The DataFrame the engine gave the old writer: text as str (or categorical), nullable
    booleans, datetime64[ns] dates."""
    data = {}
    for name, values in columns.items():
        if name in ("student_id", "comment"):
            array = pd.array(values, dtype="str")
            data[name] = pd.Categorical(array) if categorical else array
        elif name == "mastered":
            data[name] = pd.array(values, dtype="boolean")
        elif name == "last_evidence_date":
            data[name] = np.array([np.datetime64("NaT") if v is None else np.datetime64(v, "ns")
                                   for v in values], dtype="datetime64[ns]")
        elif name == "ready_to_advance":
            data[name] = np.array(values, dtype=bool)
        elif name == "evidence_count":
            data[name] = np.array(values, dtype=np.int64)
        else:
            data[name] = np.array(values, dtype=np.float64)
    return pd.DataFrame(data, index=pd.RangeIndex(len(next(iter(columns.values()), []))))


def expected_bytes(frame: pd.DataFrame, columns: list[str], places: int) -> bytes:
    """What the old writer wrote. It failed on missing values in a text column that is not
    categorical (pyarrow gave the codes as floats, NaN for the missing ones; the engine's
    text was categorical): there it meant empty cells, as it wrote for categoricals."""
    try:
        return reference.csv_bytes(frame, columns, places)
    except pa.ArrowNotImplementedError:
        typed = reference._NUMERIC | reference._LEVELS | reference._DATES | reference._INTEGERS
        texts_ = [n for n in frame.columns if n not in typed
                  and not (n in reference._BOOLEANS and pd.api.types.is_bool_dtype(frame[n]))
                  and not isinstance(frame[n].dtype, pd.CategoricalDtype)
                  and frame[n].isna().any()]
        assert texts_
        filled = frame.assign(**{n: frame[n].astype(object).where(frame[n].notna(), "")
                                 for n in texts_})
        return reference.csv_bytes(filled, columns, places)


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[str, list], list[str]]:
    """Columns of one length, and the columns to write (some of them missing)."""
    names = draw(st.lists(st.sampled_from(list(KINDS)), min_size=1, max_size=len(KINDS),
                          unique=True))
    rows = draw(st.integers(min_value=0, max_value=12))
    columns = {n: draw(st.lists(KINDS[n], min_size=rows, max_size=rows)) for n in names}
    wanted = draw(st.permutations(names))[: draw(st.integers(1, len(names)))]
    extra = draw(st.lists(st.sampled_from(["missing", "status", "credits", "row"]),
                          max_size=2, unique=True))
    return columns, list(wanted) + extra


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), places, st.booleans())
def test_dataframes_are_written_as_before(drawn, places, categorical):
    columns, wanted = drawn
    frame = frame_of(columns, categorical)
    expected = expected_bytes(frame, wanted, places)
    assert csv_bytes(frame, wanted, places) == expected
    assert csv_bytes(Table.from_pandas(frame), wanted, places) == expected
    assert csv_text(frame, wanted, places) == expected.decode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(KINDS)), places, st.booleans(), st.data())
def test_one_column_tables_quote_a_lone_empty_cell(name, places, lone_empty_name, data):
    values = data.draw(st.lists(KINDS[name], min_size=0, max_size=10))
    frame = frame_of({name: values}, categorical=data.draw(st.booleans()))
    wanted = [""] if lone_empty_name else [name]
    if lone_empty_name:
        frame = frame.rename(columns={name: ""})
    assert csv_bytes(frame, wanted, places) == expected_bytes(frame, wanted, places)


@st.composite
def coded_columns(draw: st.DrawFn, rows: int) -> Coded:
    """Coded text as the engine makes it: texts unsorted, repeated or unused, code -1 for
    missing."""
    distinct = draw(st.lists(texts, min_size=1, max_size=6))
    codes = draw(st.lists(st.integers(min_value=-1, max_value=len(distinct) - 1),
                          min_size=rows, max_size=rows))
    return Coded(np.array(codes, dtype=np.int64), distinct)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=15), places, st.data())
def test_engine_tables_are_written_like_their_dataframes(rows, places, data):
    known = data.draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
    values = data.draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
    table = Table({
        "student_id": data.draw(coded_columns(rows)),
        "label": data.draw(coded_columns(rows)),
        "score": np.array(data.draw(st.lists(floats, min_size=rows, max_size=rows))),
        "mastered": Flags(np.array(values, dtype=bool), np.array(known, dtype=bool)),
        "message": np.array([*data.draw(st.lists(texts, min_size=rows, max_size=rows)), "x"],
                            dtype=object)[:rows],
        "targets_total": np.array(data.draw(st.lists(integers, min_size=rows, max_size=rows)),
                                  dtype=np.int64),
    }, rows)
    wanted = data.draw(st.permutations(table.columns))
    expected = reference.csv_bytes(table.to_pandas(), wanted, places)
    assert csv_bytes(table, wanted, places) == expected


def test_a_large_text_list_shared_with_a_bigger_table():
    texts_ = [f"t{i:05d}" for i in range(5000)]
    table = Table({"target": Coded(np.array([4999, -1, 7, 7], dtype=np.int64), texts_)})
    expected = reference.csv_bytes(table.to_pandas(), ["target"], 2)
    assert csv_bytes(table, ["target"], 2) == expected == b"target\nt04999\n\"\"\nt00007\nt00007\n"


def test_files_sharing_a_list_of_texts_each_get_their_own_rows():
    """The cells of a list of texts are made once and kept for the next file (the student
    ids and names of every result file): each table still reads them through its codes."""
    names = ["Ann", "Bo, B", "Ann", "=1+1", ""]  # repeated, quoted, formula-like, empty
    first = Table({"student_name": Coded(np.array([0, 1, 2, -1]), list(names))})
    second = Table({"student_name": Coded(np.array([3, 3, 1]), list(names))})
    for table in (first, second, first):
        expected = reference.csv_bytes(table.to_pandas(), ["student_name"], 2)
        assert csv_bytes(table, ["student_name"], 2) == expected
    assert csv_bytes(second, ["student_name"], 2) == b"student_name\n'=1+1\n'=1+1\n\"Bo, B\"\n"


@settings(max_examples=200, deadline=None)
@given(st.lists(floats, max_size=30), st.integers(min_value=0, max_value=15))
def test_decimals_match_format_decimal(values, places):
    expected = [format_decimal(v, places) for v in values]
    assert decimals(np.array(values, dtype=np.float64), places).tolist() == expected


@pytest.mark.parametrize("places", [0, 1, 2, 3, 6])
def test_decimals_near_the_end_of_exact_digits(places):
    # Around 2**52 / 10 digits the writer switches to formatting values one by one.
    edge = 2.0**52 / 10 / 10**places
    values = np.array([np.nextafter(edge, 0), edge, np.nextafter(edge, np.inf), edge - 0.5,
                       edge + 0.5, -edge, edge * 10, (2 * np.floor(edge) + 1) / 2])
    expected = [format_decimal(v, places) for v in values.tolist()]
    assert decimals(values, places).tolist() == expected
    frame = pd.DataFrame({"score": values})
    assert csv_bytes(frame, ["score"], places) == reference.csv_bytes(frame, ["score"], places)


def test_the_csv_module_gets_the_last_word_on_quoting(monkeypatch):
    # The quoting guess (quote on , " and line feed) is checked against the csv module; if
    # the module disagrees, its answer is used text by text.
    import mastery_cli.grading.outputs as outputs

    monkeypatch.setattr(outputs, "_GUESS_BYTES", np.zeros(256, dtype=bool))  # never quote
    frame = pd.DataFrame({"comment": pd.array(["a,b", 'say "hi"', "x\ry", "plain"], "str")})
    assert csv_bytes(frame, ["comment"], 2) == reference.csv_bytes(frame, ["comment"], 2)


def test_big_tables_cross_blocks_and_keep_every_row():
    rng = np.random.default_rng(7)
    rows = 30_000
    ids = [f"{i:07d}" for i in range(3000)]
    names = ["Tanaka, Emma", "O'Brien, Farid", 'Adams "AJ", Lena', "=cmd", "Zoë"]
    frame = pd.DataFrame({
        "student_id": pd.Categorical.from_codes(rng.integers(0, 3000, rows), ids),
        "student_name": pd.array(rng.choice(names, rows), dtype="str"),
        "score": np.round(rng.uniform(0, 4, rows), 3),
        "level": rng.choice([1.0, 2.0, 3.0, np.nan], rows),
        "mastered": pd.array(rng.choice([True, False, None], rows), dtype="boolean"),
        "evidence_count": rng.integers(0, 9, rows),
        "row": rng.integers(2, 10**6, rows),
        "last_evidence_date": np.where(rng.random(rows) < 0.1, np.datetime64("NaT"),
                                       np.datetime64("2025-09-01")
                                       + rng.integers(0, 200, rows).astype("timedelta64[D]")),
    })
    columns = [*frame.columns, "missing"]
    assert csv_bytes(frame, columns, 2) == reference.csv_bytes(frame, columns, 2)


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
        "message": text(["bad", "", "why, \"this\""]),
    }, rows)


@settings(max_examples=200, deadline=None)
@given(unused(coded=False), unused(coded=True), st.booleans())
def test_unused_rows_are_sorted_and_written_as_before(rejects, set_aside, swap):
    if swap:
        rejects, set_aside = set_aside, rejects
    result = SimpleNamespace(tables=SimpleNamespace(rejects=rejects, set_aside=set_aside))
    table = unused_rows(result)
    expected = reference.unused_rows(rejects.to_pandas(), set_aside.to_pandas())
    columns = reference.REJECT_COLUMNS
    assert csv_bytes(table, columns, 2) == reference.csv_bytes(expected, columns, 2)


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


def test_write_outputs_writes_the_five_files(tmp_path):
    from mastery_cli.grading.outputs import REJECTS_CSV_COLUMNS, write_outputs
    from mastery_cli.grading.pipeline import TARGET_COLUMNS

    result = stand_in_result()
    written = write_outputs(result, tmp_path)  # type: ignore[arg-type]
    assert [p.name for p in written] == list(CSV_FILES)
    assert (tmp_path / "target_grades.csv").read_bytes() == reference.csv_bytes(
        result.tables.targets.to_pandas(), TARGET_COLUMNS, 2)
    assert (tmp_path / "target_grades.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        '0000001,"Tanaka, Emma",T.1,T,decaying_average(weight=0.65),2.68,2,Developing,false,'
        "4,ok,2025-11-10",
        '0000001,"Tanaka, Emma",T.2,T,decaying_average(weight=0.65),,,,,1,'
        "insufficient-evidence,",
        "0000002,\"O'Brien, Farid\",T.1,T,decaying_average(weight=0.65),3.00,3,Proficient,true,"
        "3,ok,2025-12-03",
    ]
    assert (tmp_path / "rejects.csv").read_text(encoding="utf-8") == (
        ",".join(REJECTS_CSV_COLUMNS) + "\n"
        "g.csv,3,,date,,no-score,no score\n"
        "g.csv,9,,score,'=2+2,bad-score,\"not a number, nor a level\"\n"
    )
    assert (tmp_path / "course_grades.csv").read_text(encoding="utf-8").count("\n") == 1
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files


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
        # pyarrow's compute kernels were not set up either: their first use is still slow.
        import pyarrow as pa
        start = time.perf_counter()
        pa.array([1, 2]).dictionary_encode()
        print(f"{{time.perf_counter() - start:.3f}}")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip()) > 0.02, "pyarrow.compute was initialised already"
    assert (tmp_path / "target_grades.csv").exists()


def test_a_plain_dataframe_is_written_with_rounded_safe_cells():
    frame = pd.DataFrame({"student_id": ["1", "2"], "score": [1.005, -0.004]})
    assert csv_text(frame, ["student_id", "score"], 2) == "student_id,score\n1,1.01\n2,0.00\n"
