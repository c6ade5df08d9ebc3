"""The gradebook reader on every kind of file, against golden files and its own accounting.

Each case reads files (the test data, the example school, seeded generated long files with
every oddity: BOMs, ``;`` and tabs, CRLF, quotes and quoted line breaks, blanks, EX/M, labels,
bad dates, unknown targets, duplicates, leading-zero ids, names that conflict; files big enough
to be parsed in many blocks and memory-mapped) and compares what the reader gives (accepted
evidence, rejects, diagnostics, per-file counts, the summary) with tests/golden/ingest/.
``UPDATE_GOLDEN=1`` rewrites them; review the diff: every changed line is changed behaviour.
Whatever the golden files say, every unit read is used or listed once (``rows_read``).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import hashlib
import io
import json
import random
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from golden_json import assert_golden_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ingest import READABLE

from mastery_cli.diagnostics import MasteryError
from mastery_cli.framework.model import Framework
from mastery_cli.grading import csvsniff, ingest
from mastery_cli.grading.csvsniff import ColumnCodes, count_newlines, read_input
from mastery_cli.grading.ingest import IngestConfig, read_evidence
from mastery_cli.validation import load_framework

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "gradebooks"
GOLDEN = Path(__file__).parent / "golden" / "ingest"
#: Tables longer than this are kept in the golden files as a digest of their rows.
LISTED_ROWS = 200


@pytest.fixture(scope="module")
def framework() -> Framework:
    loaded, _ = load_framework(DATA / "framework")
    return loaded


def _rows(frame: Any) -> list[list[str]]:
    return [[str(v) for v in row] for row in frame.itertuples(index=False)]


def _listed(table: dict[str, Any]) -> dict[str, Any]:
    rows = table["rows"]
    if len(rows) <= LISTED_ROWS:
        return table
    digest = hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()
    return {"columns": table["columns"], "count": len(rows), "sha256": digest,
            "first": rows[:5]}


def snapshot(files: list[Path], framework: Framework, **config: Any) -> dict[str, Any]:
    """What the reader gives for ``files``: the evidence set or the diagnostics it stopped with,
    as JSON-able data."""
    try:
        evidence = read_evidence(files, framework, IngestConfig(**config))
    except MasteryError as stop:
        return _without_folders({"stopped": [d.to_dict() for d in stop.diagnostics]}, files)
    # The accounting holds whatever the golden files say.
    assert evidence.rows_read == len(evidence.table) + len(evidence.reject_table)
    assert evidence.set_aside + evidence.rejected == len(evidence.reject_table)
    assert list(evidence.table.columns) == list(ingest.FRAME_COLUMNS)
    assert evidence.table.array("seq").tolist() == list(range(len(evidence.table)))
    assert evidence.reject_table.array("row").dtype == np.int64
    for summary in evidence.files:
        assert summary.read == summary.accepted + summary.set_aside + summary.rejected
    result = _without_folders({
        "summary": evidence.summary(),
        "counts": [evidence.rows_read, evidence.set_aside, evidence.rejected,
                   evidence.duplicates_dropped],
        "files": [dataclasses.asdict(f) for f in evidence.files],
        "diagnostics": [d.to_dict() for d in evidence.diagnostics],
        "evidence": {"columns": list(evidence.frame.columns), "rows": _rows(evidence.frame)},
        "rejects": {"columns": list(evidence.rejects.columns), "rows": _rows(evidence.rejects)},
    }, files)
    return {**result, "evidence": _listed(result["evidence"]),
            "rejects": _listed(result["rejects"])}


def _without_folders(value: Any, files: list[Path]) -> Any:
    """``value`` with the folders of ``files`` (a temporary one, this checkout) named
    ``<folder>``, so that the golden files hold the same wherever the tests run."""
    text = json.dumps(value, ensure_ascii=False)
    for folder in sorted({str(ROOT), *(str(f.parent) for f in files)}, key=len, reverse=True):
        text = text.replace(json.dumps(folder)[1:-1], "<folder>")
    return json.loads(text)


def assert_golden(name: str, value: Any) -> None:
    assert_golden_json(GOLDEN, name, value)


# --------------------------------------------------------------------------- generated files

HEADERS = (
    ["student_id", "student_name", "target", "score", "date", "assessment", "type", "comment"],
    ["Student ID", "Name", "Standard", "Level", "Assessed On", "Assignment", "Category", "Notes"],
)
IDS = ["0012345", "0067890", "007", " 0099 ", "0099", "", "00123"]
NAMES = ["Rivera, Ana", "Chen; Bo", "Ana", " Ana ", "Bo", "", '="Zoë"', "Zoë"]
TARGETS = ["MATH.ALG.1", "math.alg.1", " MATH.ALG.2 ", "HAB.COL.1", "MATH.ALG", "NOPE.1", "",
           "Solve linear equations", "CCSS.MATH.HSA.REI.B.3", "MATH.ALG.1: Solve"]
SCORES = ["1", "2.5", "4", " 3 ", "Proficient", "proficient", "P", "U", "Usually", "Competente",
          "EX", "ex", "M", "missing", "", "N/A", "-", "5", "abc", "0", "3,5"]
DATES = ["2025-09-01", "09/15/2025", "", "2025-02-30", "yesterday", "2025-09-01T10:15:00Z",
         "2025-09-01 10:15", "9/1/25", "2025/9/1", "20250901", "2025-09-01+02:00",
         "01.09.2025", "9/1/2025 1:05 PM", "2025-09", " 2025-09-03 ",
         "2025-09-01T10:15:30.123456789"]
ASSESSMENTS = ["Q1", "Q2", " Q1 ", "Quiz, part 2", "two\nlines", 'say "hi"']
TYPES = ["Formative", "formative", "SUMMATIVE", "", "İlk", "ΣΑΣ", " Práctica "]
COMMENTS = ["", "ok", "Good work,\r\nkeep going", "  "]
POOLS = (IDS, NAMES, TARGETS, SCORES, DATES, ASSESSMENTS, TYPES, COMMENTS)
BLANKS = [("",) * 8, (" ", "", "", "  ", "", "", "", "")]
CONFIGS: dict[str, list[Any]] = {
    "keep_duplicates": [True, False],
    "missing": ["ignore", 0, 1.5],
    "date_format": ["%d.%m.%Y", "%Y-%m-%d", "%m/%d/%Y %H:%M"],
    "decimal": [",", ".", "comma"],
}


def gradebook(rnd: random.Random) -> tuple[list[tuple[str, ...]], dict[str, Any]]:
    """Up to 30 records (a quarter of them blank) and exact copies, in one of the shapes."""
    rows = [rnd.choice(BLANKS) if rnd.random() < 0.25 else tuple(rnd.choice(p) for p in POOLS)
            for _ in range(rnd.randint(0, 30))]
    if rows:
        rows += [rows[rnd.randrange(len(rows))] for _ in range(rnd.randint(0, 4))]
    shape = {
        "header": rnd.choice(HEADERS),
        "delimiter": rnd.choice([",", ";", "\t"]),
        "newline": rnd.choice(["\n", "\r\n"]),
        "quoting": rnd.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
        "encoding": rnd.choice(["utf-8", "utf-8-sig"]),
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


def config_of(rnd: random.Random) -> dict[str, Any]:
    return {key: rnd.choice(values) for key, values in CONFIGS.items() if rnd.random() < 0.5}


GENERATED = 40


def test_generated_long_files(framework, tmp_path):
    """Forty seeded gradebooks read alone and in pairs, each with a seeded configuration."""
    cases = {}
    for seed in range(GENERATED):
        rnd = random.Random(seed)
        files = [write(tmp_path / "a.csv", *gradebook(rnd))]
        if seed % 2:
            files.append(write(tmp_path / "b.tsv", *gradebook(rnd)))
        config = config_of(rnd)
        cases[f"{seed:02d}"] = {"config": config, **snapshot(files, framework, **config)}
    assert sum("stopped" not in c for c in cases.values()) > GENERATED // 2
    assert_golden("generated", cases)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_any_long_file_accounts_for_every_record(framework, tmp_path, seed):
    """Beyond the golden cases: every record is used or listed once, whatever the file holds
    (``snapshot`` checks the accounting), and exact copies are counted as such."""
    rnd = random.Random(seed)
    rows, shape = gradebook(rnd)
    result = snapshot([write(tmp_path / "a.csv", rows, shape)], framework, **config_of(rnd))
    if "stopped" not in result:
        records = sum(1 for r in rows if any(c.strip() for c in r))
        assert result["counts"][0] == records


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
def test_every_export_of_the_test_data(framework, name, config):
    case = "-".join(["data", name, *sorted(config)])  # config names tell the cases apart
    assert_golden(case, snapshot([DATA / name], framework, **config))


def test_all_test_exports_together(framework):
    names = ["long_basic.csv", "wide.csv", "long_excel_eu.csv", "canvas_lmgb.csv",
             "canvas_results_17.csv", "long_tab.tsv"]
    assert_golden("data-together", snapshot([DATA / n for n in names], framework))


def test_the_example_school_and_the_golden_scores():
    school, _ = load_framework(ROOT / "examples" / "framework")
    files = sorted((ROOT / "examples" / "gradebook").glob("*.csv"))
    assert_golden("example-school", snapshot(files, school))
    golden = ROOT / "tests" / "golden" / "grade" / "inputs"
    scores, _ = load_framework(golden / "framework.yaml")
    assert_golden("golden-scores", snapshot([golden / "scores.csv"], scores))


def test_wide_export_whose_columns_hold_hundreds_of_texts(framework, tmp_path):
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
    assert_golden("wide-hundreds", snapshot([path], framework))


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


def test_a_big_export(framework, tmp_path, monkeypatch):
    path = big_gradebook(tmp_path / "big.csv", 60_000)
    assert path.stat().st_size > 2 * 1024 * 1024  # memory-mapped, parsed in several blocks
    mapped = snapshot([path], framework)
    assert_golden("big", mapped)
    assert_golden("big-keep-duplicates", snapshot([path], framework, keep_duplicates=True))
    assert mapped["counts"][3] > 0  # exact copies were there
    assert "blank-rows" in [d["code"] for d in mapped["diagnostics"]]
    # Read from memory instead of a memory map: the same.
    monkeypatch.setattr(csvsniff, "MAP_BYTES", path.stat().st_size + 1)
    assert snapshot([path], framework) == mapped


@pytest.mark.parametrize("form", ["BOM", "CRLF", "BOM and CRLF"])
def test_a_big_export_is_parsed_from_its_file_as_from_its_bytes(framework, tmp_path,
                                                                  monkeypatch, form):
    # A large UTF-8 file is parsed from the file itself, past its BOM, not from the memory
    # map (whose pages would all be held): the records, lines and diagnostics of the bytes.
    path = big_gradebook(tmp_path / "big.csv", 20_000, seed=5)
    data = path.read_bytes()
    if "CRLF" in form:
        data = data.replace(b"\n", b"\r\n")
    if "BOM" in form:
        data = codecs.BOM_UTF8 + data
    path.write_bytes(data)
    decoded = csvsniff.sniff(read_input(path), str(path), file=path)
    assert decoded.file == path and decoded.file_offset == (3 if "BOM" in form else 0)
    from_file = snapshot([path], framework)
    monkeypatch.setattr(csvsniff, "MAP_BYTES", path.stat().st_size + 1)
    assert csvsniff.sniff(read_input(path), str(path), file=path).file is None
    assert snapshot([path], framework) == from_file


@pytest.mark.parametrize("oddity", ["blank line", "quoted line break", "both", "bad row"])
def test_a_big_export_with_lines_that_are_not_records(framework, tmp_path, oddity):
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
    assert_golden(f"big-{oddity.replace(' ', '-')}", snapshot([path], framework))


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
