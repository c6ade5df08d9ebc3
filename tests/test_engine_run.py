"""Grading on the engine: both readers, any batch size, under a memory limit, Parquet in and
out give the bytes mastery's reader gives in one batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.cli.grade_run import load_inputs
from mastery_cli.diagnostics import MasteryError
from mastery_cli.grading.engine import evidence
from mastery_cli.grading.engine.run import RunOutcome, grade_run
from mastery_cli.grading.engine.session import EngineOptions
from mastery_cli.grading.pipeline import ingest_config
from tests.engine_data import FRAMEWORK, POLICY, RESULT_FILES, SCHOOL, messy_gradebook

#: Every input to mastery's reader / every input to the engine's own reader.
INGEST = EngineOptions(engine_reader_bytes=1 << 62)
READER = EngineOptions(engine_reader_bytes=0)


def graded(files: list[Path], out: Path, options: EngineOptions, **kwargs: Any) -> RunOutcome:
    framework, policy, _ = load_inputs(FRAMEWORK, POLICY, None, [])
    out.mkdir(parents=True)
    return grade_run(files, framework, policy, ingest_config(policy), out, options=options,
                     **kwargs)


def files_of(folder: Path, names: tuple[str, ...] = RESULT_FILES) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in names}


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return messy_gradebook(tmp_path_factory.mktemp("messy") / "messy.csv")


@pytest.mark.parametrize("files", ["school", "messy"])
def test_the_engine_reader_gives_the_bytes_of_mastery_reader(
        files: str, messy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = SCHOOL if files == "school" else [messy]
    ingest = graded(inputs, tmp_path / "ingest", INGEST)
    # Small batches: students are cut into many batches, none split in two.
    monkeypatch.setattr(evidence, "BATCH_ROWS", 97)
    engine = graded(inputs, tmp_path / "engine", READER)
    assert files_of(tmp_path / "engine") == files_of(tmp_path / "ingest")
    assert engine.counts == ingest.counts
    assert engine.counts.rows_read == (engine.counts.used + engine.counts.set_aside
                                       + engine.counts.rejected)
    assert engine.tally == ingest.tally
    # The reader's diagnostics: the same problems at the same places.
    def where(outcome: RunOutcome) -> set[tuple[str, str, int | None]]:
        return {(d.code, d.path, d.line) for d in outcome.diagnostics}
    assert where(engine) == where(ingest)
    if files == "messy":
        rejects = (tmp_path / "engine" / "rejects.csv").read_text(encoding="utf-8")
        for reason in ("unknown-target", "missing-target", "missing-student-id", "bad-date",
                       "score-off-scale", "non-numeric-score", "duplicate-row", "no-score"):
            assert f",{reason}," in rejects


@pytest.mark.parametrize("files", ["school", "messy"])
def test_mastery_reader_graded_in_many_batches_gives_the_bytes_of_one(
        files: str, messy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = SCHOOL if files == "school" else [messy]
    one = graded(inputs, tmp_path / "one", INGEST, whole_result=True)
    monkeypatch.setattr(evidence, "BATCH_ROWS", 61)
    many = graded(inputs, tmp_path / "many", INGEST, whole_result=True)
    assert files_of(tmp_path / "many") == files_of(tmp_path / "one")
    assert many.counts == one.counts and many.tally == one.tally
    assert {(d.code, d.path, d.line) for d in many.diagnostics} == {
        (d.code, d.path, d.line) for d in one.diagnostics}
    assert many.result is not None and one.result is not None
    assert len(many.result.tables.evidence) == len(one.result.tables.evidence)


def test_student_batches_hold_whole_students_in_id_order() -> None:
    import numpy as np

    from mastery_cli.grading.engine.student_batches import student_batches
    from mastery_cli.grading.table import Coded, Table

    ids = ["b", "a", "c", "a", "b", "d", "a", "c", "c", "c", "c", "e"]
    codes = {text: code for code, text in enumerate(dict.fromkeys(ids))}
    table = Table({"student_id": Coded(np.array([codes[i] for i in ids]), list(codes)),
                   "seq": np.arange(len(ids))})
    batches = list(student_batches(table, 3))
    students = [batch.coded("student_id").values().tolist() for batch in batches]
    # a (3 rows) | b (2) + c (5: more than a batch, whole) | d + e
    assert students == [["a", "a", "a"], ["b", "c", "b", "c", "c", "c", "c"], ["d", "e"]]
    assert [batch.array("seq").tolist() for batch in batches] == [
        [1, 3, 6], [0, 2, 4, 7, 8, 9, 10], [5, 11]]  # the file's order within a batch
    assert [len(b.coded("student_id").texts) for b in batches] == [1, 2, 2]
    assert list(student_batches(table, len(ids) // 2)) == [table]


def test_grades_json_is_the_same_from_many_batches(
        messy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mastery_cli.grading.json_output import grades_json_chunks

    one = graded([messy], tmp_path / "one", INGEST, whole_result=True)
    monkeypatch.setattr(evidence, "BATCH_ROWS", 50)
    many = graded([messy], tmp_path / "many", READER, whole_result=True)
    assert one.result is not None and many.result is not None
    made_one = b"".join(grades_json_chunks(one.result))
    assert b"".join(grades_json_chunks(many.result)) == made_one
    assert json.loads(made_one)["students"]


def test_a_memory_limit_and_a_spill_folder_change_nothing(messy: Path, tmp_path: Path) -> None:
    graded([messy], tmp_path / "free", READER)
    spill = tmp_path / "spill"
    spill.mkdir()
    limited = EngineOptions(engine_reader_bytes=0, memory_limit="100MB", threads=1,
                            temp_directory=spill)
    graded([messy], tmp_path / "limited", limited)
    assert files_of(tmp_path / "limited") == files_of(tmp_path / "free")


@pytest.mark.parametrize("reader", ["mastery", "engine"])
def test_parquet_evidence_is_graded_as_its_csv(reader: str, messy: Path, tmp_path: Path) -> None:
    text_columns = pacsv.ConvertOptions(
        column_types=dict.fromkeys(_header(messy), pa.string()), strings_can_be_null=False)
    table = pacsv.read_csv(messy, convert_options=text_columns)
    parquet = tmp_path / "messy.parquet"
    pq.write_table(table, parquet)
    graded([messy], tmp_path / "csv", INGEST)
    outcome = graded([parquet], tmp_path / "parquet", INGEST if reader == "mastery" else READER)
    results = RESULT_FILES[:-1]
    assert files_of(tmp_path / "parquet", results) == files_of(tmp_path / "csv", results)
    # Rows not used are the same rows, each at its row of the Parquet file (1-based, no
    # header) instead of its CSV line.
    csv_rejects = (tmp_path / "csv" / "rejects.csv").read_text(encoding="utf-8").splitlines()
    rejects = (tmp_path / "parquet" / "rejects.csv").read_text(encoding="utf-8").splitlines()
    assert len(rejects) == len(csv_rejects)
    assert outcome.counts.rows_read == table.num_rows - 1  # the blank padding row is no row


def test_both_readers_read_a_parquet_file_alike(messy: Path, tmp_path: Path) -> None:
    """The same text of every value (typed ones too), the same rows: the same five files."""
    table = pacsv.read_csv(messy, convert_options=pacsv.ConvertOptions(
        column_types=dict.fromkeys(_header(messy), pa.string()), strings_can_be_null=False))
    scores = pa.array([float(s) if s.replace(".", "", 1).isdigit() else None
                       for s in table.column("score").to_pylist()], pa.float64())
    typed = table.set_column(table.schema.get_field_index("score"), "score", scores)
    pq.write_table(typed, tmp_path / "typed.parquet", row_group_size=1000)
    graded([tmp_path / "typed.parquet"], tmp_path / "mastery", INGEST)
    graded([tmp_path / "typed.parquet"], tmp_path / "engine", READER)
    assert files_of(tmp_path / "engine") == files_of(tmp_path / "mastery")
    assert ",7.0," not in (tmp_path / "engine" / "rejects.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("reader", ["mastery", "engine"])
def test_typed_parquet_columns_are_read_as_their_text(reader: str, tmp_path: Path) -> None:
    """A Parquet file written by a data team has dates and numbers typed: they mean what the
    same values written in a CSV file mean."""
    import datetime as dt

    typed = pa.table({
        "student_id": ["0000001", "0000001", "0000002"],
        "target": ["MATH.ALG.1", "MATH.ALG.1", "MATH.ALG.1"],
        "date": [dt.date(2026, 9, 1), dt.date(2026, 9, 8), None],
        "score": [2.0, 3.5, 4.0],
    })
    pq.write_table(typed, tmp_path / "typed.parquet")
    (tmp_path / "typed.csv").write_text(
        "student_id,target,date,score\n0000001,MATH.ALG.1,2026-09-01,2\n"
        "0000001,MATH.ALG.1,2026-09-08,3.5\n0000002,MATH.ALG.1,,4\n", encoding="utf-8")
    graded([tmp_path / "typed.parquet"], tmp_path / "parquet",
           INGEST if reader == "mastery" else READER)
    graded([tmp_path / "typed.csv"], tmp_path / "csv", INGEST)
    results = RESULT_FILES[:-1]
    assert files_of(tmp_path / "parquet", results) == files_of(tmp_path / "csv", results)


def test_format_parquet_writes_the_csv_cells_typed(tmp_path: Path) -> None:
    runner = CliRunner()
    common = [*map(str, SCHOOL), "--framework", str(FRAMEWORK), "--policy", str(POLICY), "-q"]
    assert runner.invoke(app, ["grade", *common, "--out", str(tmp_path / "csv")]).exit_code == 0
    done = runner.invoke(app, ["grade", *common, "--out", str(tmp_path / "pq"),
                               "--format", "parquet"])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == sorted(
        name.replace(".csv", ".parquet") for name in RESULT_FILES)
    for name in RESULT_FILES:
        written = pq.read_table(tmp_path / "pq" / name.replace(".csv", ".parquet"))
        as_text = pacsv.read_csv(tmp_path / "csv" / name, convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(written.schema.names, pa.string()),
            strings_can_be_null=False))
        assert written.num_rows == as_text.num_rows
        assert written.schema.names == as_text.schema.names
        for column in written.schema.names:
            kind = written.schema.field(column).type
            values = written.column(column).to_pylist()
            texts = as_text.column(column).to_pylist()
            if pa.types.is_decimal(kind):  # exact: 2.41 is Decimal("2.41"), never 2.4099…
                assert [str(v) if v is not None else "" for v in values] == texts
            elif pa.types.is_boolean(kind):
                assert [("true" if v else "false") if v is not None else "" for v in values] \
                    == texts
            elif pa.types.is_integer(kind):
                assert [str(v) if v is not None else "" for v in values] == texts
            elif pa.types.is_date(kind):
                assert [v.isoformat() if v is not None else "" for v in values] == texts
            else:
                assert values == texts
    scores = pq.read_table(tmp_path / "pq" / "target_grades.parquet").schema.field("score")
    assert scores.type == pa.decimal128(18, 2)


@pytest.mark.parametrize(("option", "value", "says"), [
    ("--engine", "postgres", "choose duckdb or spark"),
    ("--memory-limit", "lots", "not an amount of memory"),
    ("--format", "xlsx", "choose csv, json or parquet"),
    ("--threads", "0", "--threads"),
])
def test_bad_engine_options_are_usage_errors(option: str, value: str, says: str,
                                             tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["grade", str(SCHOOL[0]), "--framework", str(FRAMEWORK),
                                    "--out", str(tmp_path / "out"), option, value])
    assert done.exit_code == 2
    assert says in done.output
    assert not (tmp_path / "out").exists()


def test_parquet_of_another_shape_is_a_located_error(tmp_path: Path) -> None:
    pq.write_table(pa.table({"name": ["x"], "grade": ["A"]}), tmp_path / "odd.parquet")
    done = CliRunner().invoke(app, ["grade", str(tmp_path / "odd.parquet"), "--framework",
                                    str(FRAMEWORK), "--out", str(tmp_path / "out")])
    assert done.exit_code == 1
    assert "odd.parquet" in done.output
    assert "Traceback" not in done.output


@pytest.mark.parametrize("options", [INGEST, READER])
def test_a_parquet_column_of_lists_is_a_located_error(options: EngineOptions,
                                                      tmp_path: Path) -> None:
    pq.write_table(pa.table({"student_id": ["1"], "target": ["MATH.ALG.1"],
                             "score": [[3, 4]]}), tmp_path / "lists.parquet")
    framework, policy, _ = load_inputs(FRAMEWORK, POLICY, None, [])
    (tmp_path / "out").mkdir()
    with pytest.raises(MasteryError) as raised:
        outcome = grade_run([tmp_path / "lists.parquet"], framework, policy,
                            ingest_config(policy), tmp_path / "out", options=options)
        raise MasteryError(outcome.diagnostics)  # mastery's reader reports, not raises
    codes = {d.code for d in raised.value.diagnostics}
    assert "parquet-column-type" in codes
    assert any("'score'" in d.message for d in raised.value.diagnostics)


def test_parquet_of_any_size_is_long_evidence(messy: Path, tmp_path: Path) -> None:
    # A small Parquet file goes to mastery's reader, a large one to the engine's: --input-format
    # wide is the same usage error for both.
    pq.write_table(pa.table({"student_id": ["1"], "target": ["MATH.ALG.1"], "score": ["3"]}),
                   tmp_path / "small.parquet")
    done = CliRunner().invoke(app, ["grade", str(tmp_path / "small.parquet"), "--framework",
                                    str(FRAMEWORK), "--out", str(tmp_path / "out"),
                                    "--input-format", "wide"])
    assert done.exit_code == 2
    assert "parquet-not-long" in done.output


def test_a_file_that_is_not_parquet_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "fake.parquet").write_text("student_id,target,score\n", encoding="utf-8")
    done = CliRunner().invoke(app, ["grade", str(tmp_path / "fake.parquet"), "--framework",
                                    str(FRAMEWORK), "--out", str(tmp_path / "out")])
    assert done.exit_code == 1
    assert "not-parquet" in done.output
    assert "Traceback" not in done.output


def _header(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[0].split(",")


def test_a_run_that_fails_midway_leaves_the_output_folder_as_it_was(
        messy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mastery_cli.grading.engine import run, session

    out = tmp_path / "out"
    out.mkdir()
    (out / "target_grades.csv").write_text("last week's grades\n", encoding="utf-8")
    monkeypatch.setattr(evidence, "BATCH_ROWS", 100)
    monkeypatch.setattr(session, "reader_bytes_for", lambda limit: 0)  # the engine's reader
    graded_batches = 0
    kernel = run.Kernel.__call__

    def fails_on_the_third_batch(self: run.Kernel, table: Any) -> Any:
        nonlocal graded_batches
        graded_batches += 1
        if graded_batches == 3:
            raise RuntimeError("the roll-ups failed")
        return kernel(self, table)

    monkeypatch.setattr(run.Kernel, "__call__", fails_on_the_third_batch)
    done = CliRunner().invoke(app, ["grade", str(messy), "--framework", str(FRAMEWORK),
                                    "--out", str(out)])
    assert done.exit_code == 2
    assert graded_batches == 3
    assert [p.name for p in out.iterdir()] == ["target_grades.csv"]  # no temporary files
    assert (out / "target_grades.csv").read_text(encoding="utf-8") == "last week's grades\n"


def test_explain_and_reports_read_parquet_as_its_csv(tmp_path: Path) -> None:
    """explain (and every command that reads gradebooks) takes a Parquet file too, with the
    rows of the same CSV at their position in the Parquet file."""
    source = SCHOOL[0]
    text = pacsv.ConvertOptions(column_types=dict.fromkeys(_header(source), pa.string()),
                                strings_can_be_null=False)
    parquet = tmp_path / source.with_suffix(".parquet").name
    pq.write_table(pacsv.read_csv(source, convert_options=text), parquet)
    runner = CliRunner()
    common = ["--framework", str(FRAMEWORK), "--policy", str(POLICY)]
    from_csv = runner.invoke(app, ["explain", "0041001", "MATH.ALG.1", str(source), *common])
    from_parquet = runner.invoke(app, ["explain", "0041001", "MATH.ALG.1", str(parquet),
                                       *common])
    assert from_csv.exit_code == from_parquet.exit_code == 0, from_parquet.output
    assert "Parquet" not in from_parquet.output or "PAR1" not in from_parquet.output
    # The same arithmetic; rows named by the Parquet file (line n of the CSV is its row n - 1).
    def numbers(output: str) -> list[str]:
        return [line for line in output.splitlines() if "=" in line and ".csv" not in line
                and ".parquet" not in line]
    assert numbers(from_parquet.output) == numbers(from_csv.output)
    assert str(parquet) in from_parquet.output


def test_a_memory_limit_too_small_says_what_to_change(
        messy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mastery_cli.grading.engine import session

    monkeypatch.setattr(session, "reader_bytes_for", lambda limit: 0)  # the engine's reader
    table = pacsv.read_csv(messy, convert_options=pacsv.ConvertOptions(
        column_types=dict.fromkeys(_header(messy), pa.string()), strings_can_be_null=False))
    pq.write_table(table, tmp_path / "messy.parquet")
    done = CliRunner().invoke(app, ["grade", str(tmp_path / "messy.parquet"), "--framework",
                                    str(FRAMEWORK), "--out", str(tmp_path / "out"),
                                    "--memory-limit", "1MB"])
    assert done.exit_code == 2
    assert "engine-out-of-memory" in done.output
    assert "raise --memory-limit" in done.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(("failure", "code"), [
    (ImportError("No module named 'pyspark'"), "spark-not-installed"),
    (RuntimeError("Java gateway process exited before sending its port number"),
     "spark-unavailable"),
])
def test_spark_that_cannot_start_says_what_to_install(
        failure: Exception, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mastery_cli.grading.engine import spark_session

    def cannot_start(settings: Any) -> Any:
        raise failure

    monkeypatch.setattr(spark_session, "start_session", cannot_start)
    done = CliRunner().invoke(app, ["grade", str(SCHOOL[0]), "--framework", str(FRAMEWORK),
                                    "--out", str(tmp_path / "out"), "--engine", "spark"])
    assert done.exit_code == 2
    assert code in done.output
    assert "Traceback" not in done.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_file_without_rows_is_said_by_either_reader(kind: str, tmp_path: Path) -> None:
    header = pa.table({name: pa.array([], pa.string()) for name in ("student_id", "target",
                                                                   "score")})
    source = tmp_path / f"empty.{kind}"
    if kind == "csv":
        source.write_text("student_id,target,score\n", encoding="utf-8")
    else:
        pq.write_table(header, source)
    for options in (INGEST, READER):
        outcome = graded([source], tmp_path / f"out-{len(list(tmp_path.iterdir()))}", options)
        # (The example policy's evidence types are unused too: said of the policy.)
        assert [(d.code, d.path) for d in outcome.diagnostics
                if d.path == str(source)] == [("no-data-rows", str(source))]
        assert outcome.counts.rows_read == 0
