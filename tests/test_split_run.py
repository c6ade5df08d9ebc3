"""`mastery grade` of one large file in parts, one process per part (`split_run`), against the
same command in one process: the same bytes in every file, the same terminal output and the
same exit code. When the parts cannot be the whole file's results, the file is graded whole,
and that too gives the same output.

The size thresholds are lowered so that small generated files are cut; a spy on
`Parts.finish` makes sure each test took the road it is about (parts, or the fallback).
"""

from __future__ import annotations

import csv
import os
import random
import sys
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_pipeline import write_csv
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.grading import split_run
from mastery_cli.grading.csvsniff import NotSplittable, part_of, read_records, sniff
from mastery_cli.output import PendingFile
from mastery_cli.validation import load_framework

REPO = Path(__file__).resolve().parents[1]
FRAMEWORK = REPO / "examples" / "framework"
TARGETS = sorted(load_framework(FRAMEWORK)[0].targets)
HEADER = ["student_id", "student_name", "target", "score", "date", "assessment", "type",
          "section", "course"]
FILES = ("target_grades.csv", "competency_grades.csv", "course_grades.csv", "progress.csv",
         "rejects.csv")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not hasattr(os, "fork"),
                                reason="parts are graded by forked processes (Linux)")

Row = list[str]


def gradebook(students: int = 90, seed: int = 1) -> list[Row]:
    """A long gradebook listed student by student, with blanks, EX, missing work and half
    levels."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for number in range(1, students + 1):
        sid, name = f"{number:05d}", f"Student, N{number}"
        for target in rng.sample(TARGETS, 5):
            for k in range(rng.randint(1, 4)):
                score = rng.choice(["1", "2", "3", "4", "3", "2.5", "", "EX", "M"])
                rows.append([sid, name, target, score, f"2026-09-{k + 1:02d}", f"Task {k + 1}",
                             rng.choice(["formative", "summative"]), "P1", "ALG1"])
    return rows


def write(path: Path, rows: Sequence[Row], header: Sequence[str] = HEADER) -> Path:
    return write_csv(path, rows, header)


def grade(monkeypatch: pytest.MonkeyPatch, file: Path, out: Path, *, parts: int,
          extra: Sequence[str] = ()) -> tuple[int, str, dict[str, bytes], list[object]]:
    """(exit code, terminal output with the folder named OUT, the files, what each
    `Parts.finish` gave). ``parts`` 1: the usual run in one process."""
    finished: list[object] = []
    with monkeypatch.context() as patch:
        if parts > 1:
            patch.setattr(split_run, "SPLIT_BYTES", 0)
            patch.setattr(split_run, "PART_BYTES", 1)
            patch.setattr(split_run, "cpu_count", lambda: parts)
            finish = split_run.Parts.finish

            def spied(self: split_run.Parts, *args: object, **kwargs: object) -> object:
                outcome = finish(self, *args, **kwargs)  # type: ignore[arg-type]
                finished.append(outcome)
                return outcome

            patch.setattr(split_run.Parts, "finish", spied)
        else:
            patch.setattr(split_run, "worth_splitting", lambda *a, **k: False)
        result = CliRunner().invoke(
            app, ["grade", str(file), "--framework", str(FRAMEWORK), "--out", str(out),
                  *extra], env={"COLUMNS": "120"})
    written = {name: (out / name).read_bytes() for name in FILES if (out / name).exists()}
    assert sorted(os.listdir(out)) == sorted(written), "temporary files left behind"
    return result.exit_code, result.output.replace(str(out), "OUT"), written, finished


def same_as_whole(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, file: Path, *,
                  parts: int = 2, extra: Sequence[str] = ()) -> list[object]:
    """Grade ``file`` whole and in parts: everything must be the same. What each
    `Parts.finish` gave."""
    whole = grade(monkeypatch, file, tmp_path / "whole", parts=1, extra=extra)
    split = grade(monkeypatch, file, tmp_path / "parts", parts=parts, extra=extra)
    assert split[:3] == whole[:3]
    assert len(whole[2]) == 5 and whole[0] in (0, 1), whole[1]
    return split[3]


@pytest.mark.parametrize("parts", [2, 3])
@pytest.mark.parametrize("method", ["decaying_average", "power_law", "mode", "n_mastery"])
def test_parts_give_the_whole_file_s_results(monkeypatch, tmp_path, parts, method):
    file = write(tmp_path / "book.csv", gradebook(seed=parts))
    finished = same_as_whole(monkeypatch, tmp_path, file, parts=parts,
                             extra=["--method", method])
    assert len(finished) == 1 and finished[0] is not None  # graded in parts


def test_an_excel_export_with_the_school_s_policy(monkeypatch, tmp_path):
    """A UTF-8 BOM, semicolons, CRLF and decimal commas (Excel in Europe), graded by the
    example school's policy (overrides, filters, weights, roll-ups, course rules)."""
    rows = [[*row[:3], row[3].replace(".", ","), *row[4:]] for row in gradebook(seed=21)]
    file = tmp_path / "book.csv"
    with file.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    finished = same_as_whole(monkeypatch, tmp_path, file,
                             extra=["--policy", str(REPO / "examples" / "policy.yaml")])
    assert len(finished) == 1 and finished[0] is not None


def test_kept_duplicates_are_counted_as_for_the_whole_file(monkeypatch, tmp_path):
    rows = gradebook(seed=23)
    rows[40:40] = [list(rows[40])] * 3
    rows[-20:-20] = [list(rows[-20])] * 2
    file = write(tmp_path / "book.csv", rows)
    for extra in ([], ["--keep-duplicates"]):
        assert same_as_whole(monkeypatch, tmp_path / "-".join(["run", *extra]), file,
                             extra=extra)[0] is not None


def test_a_late_byte_that_is_not_utf8_is_graded_whole(monkeypatch, tmp_path):
    """The first 64 KB are UTF-8, a name near the end is Windows-1252: the part holding it
    cannot be read as its share of a UTF-8 file, so the file is graded whole (and read as
    Windows-1252, with the warning)."""
    rows = gradebook(students=900, seed=25)
    file = write(tmp_path / "book.csv", rows)
    data = file.read_bytes()
    at = data.index(b"Student, N", len(data) * 3 // 4)
    file.write_bytes(data[:at] + "Jos\u00e9".encode("cp1252") + data[at + 7:])
    assert same_as_whole(monkeypatch, tmp_path, file) == [None]


def test_problems_are_told_as_for_the_whole_file(monkeypatch, tmp_path):
    """Rejected rows of every kind, in both parts and more than the 20 listed per reason;
    exact copies; a student with two names; --strict's exit code."""
    rows = gradebook(students=120, seed=7)
    rng = random.Random(3)
    for at in sorted(rng.sample(range(len(rows)), 200), reverse=True):
        bad = list(rows[at])
        kind = at % 5
        if kind == 0:
            bad[2] = "MATH.NQ.9"  # unknown target
        elif kind == 1:
            bad[3] = "great"  # not a score
        elif kind == 2:
            bad[3] = "11"  # off the scale
        elif kind == 3:
            bad[4] = "2026-13-45"  # not a date
        else:
            rows.insert(at + 1, list(rows[at]))  # an exact copy
            continue
        rows[at] = bad
    rows[10][1] = "Somebody Else"  # the first student has two names
    rows[-3][1] = "Another Name"  # and so does the last
    file = write(tmp_path / "book.csv", rows)
    finished = same_as_whole(monkeypatch, tmp_path, file, extra=["--strict"])
    assert len(finished) == 1 and finished[0] is not None
    told = {d.code: d.message for d in finished[0].diagnostics}  # type: ignore[attr-defined]
    assert {"unknown-target", "non-numeric-score", "score-off-scale", "bad-date",
            "duplicate-row", "conflicting-student-name", "no-score"} <= set(told)
    assert "more row(s) rejected as unknown-target" in told["unknown-target"]


def test_a_file_listed_by_task_is_not_cut(monkeypatch, tmp_path):
    """A file sorted by task lists every student again and again: no cut can keep a
    student's evidence in one part, and a sample of its lines shows it before any part is
    graded."""
    rows = sorted(gradebook(seed=5), key=lambda row: (row[5], row[0]))
    file = write(tmp_path / "book.csv", rows)
    assert same_as_whole(monkeypatch, tmp_path, file) == []


def test_a_late_row_at_the_end_keeps_the_file_whole(monkeypatch, tmp_path):
    """Sorted by student but for a row of the first student added at the end (by hand, say):
    the end of the file is read whole, so it is not cut."""
    rows = gradebook(seed=5)
    late = list(rows[0])
    late[4] = "2026-10-30"
    file = write(tmp_path / "book.csv", [*rows, late])
    assert same_as_whole(monkeypatch, tmp_path, file) == []


def test_a_student_in_two_parts_is_graded_whole(monkeypatch, tmp_path):
    """Sorted by student but for one row of the first student in the middle: the lines
    sampled are in order, the parts are graded, and their students overlap."""
    rows = gradebook(students=400, seed=5)
    late = list(rows[0])
    late[4] = "2026-10-30"
    middle = len(rows) * 3 // 4 + 1
    rows.insert(middle, late)
    file = write(tmp_path / "book.csv", rows)
    assert same_as_whole(monkeypatch, tmp_path, file) == [None]


def test_a_decimal_comma_seen_in_one_part_only_is_graded_whole(monkeypatch, tmp_path):
    """The reader picks the decimal mark from all the scores of a file: with "2.5" in the
    first half and "2,5" in the second, the file's mark is the point ("2,5" is no score),
    while the second part alone would read "2,5" as 2.5."""
    rows = gradebook(seed=9)
    half = len(rows) // 2
    rows[half:] = [[*row[:3], "2,5" if row[3] == "2.5" else row[3], *row[4:]]
                   for row in rows[half:]]
    file = write(tmp_path / "book.csv", rows)
    assert same_as_whole(monkeypatch, tmp_path, file) == [None]


def test_a_quoted_line_break_keeps_the_file_whole(monkeypatch, tmp_path):
    rows = gradebook(seed=11)
    rows[3][5] = "Task\nwith two lines"
    file = write(tmp_path / "book.csv", rows)
    assert same_as_whole(monkeypatch, tmp_path, file) == []  # never cut


def test_a_quoted_line_break_past_the_sample_is_found_by_the_part(monkeypatch, tmp_path):
    """The first 64 KB show no quoted line break, so the file is cut; the part holding one
    finds it (its records are not its lines), and the file is graded whole."""
    rows = gradebook(students=900, seed=17)
    rows[len(rows) * 3 // 4][5] = "Task\nwith two lines"  # neither sample nor end
    file = write(tmp_path / "book.csv", rows)
    assert file.stat().st_size > 2 * 65536
    assert same_as_whole(monkeypatch, tmp_path, file) == [None]


def test_blank_rows_are_counted_for_the_whole_file(monkeypatch, tmp_path):
    rows = gradebook(students=400, seed=13)
    rows.insert(len(rows) * 3 // 4, [""] * len(HEADER))
    file = write(tmp_path / "book.csv", rows)
    assert same_as_whole(monkeypatch, tmp_path, file) == [None]  # a note the parts can't add


def test_a_failing_part_leaves_the_file_to_be_graded_whole(monkeypatch, tmp_path):
    file = write(tmp_path / "book.csv", gradebook(seed=15))
    grade_part = split_run.grade_part

    def failing(job, framework, policy, span, *, first, on_step=None):  # type: ignore[no-untyped-def]
        if not first:
            raise RuntimeError("a part fails")
        return grade_part(job, framework, policy, span, first=first, on_step=on_step)

    monkeypatch.setattr(split_run, "grade_part", failing)
    assert same_as_whole(monkeypatch, tmp_path, file) == [None]


def test_a_part_failing_after_writing_leaves_no_file_behind(monkeypatch, tmp_path):
    """Every part has written its rows when the failure comes (in counting its rejects,
    which a quiet run in one process does not do): those files go, and the file is graded
    whole (`grade` checks that the folder holds the five files only)."""
    from mastery_cli.grading import summary

    def failing(*args: object, **kwargs: object) -> object:
        raise RuntimeError("after the files")

    file = write(tmp_path / "book.csv", gradebook(seed=27))
    monkeypatch.setattr(summary, "text_tally", failing)
    assert same_as_whole(monkeypatch, tmp_path, file, extra=["-q"]) == [None]


def test_json_output_and_small_files_are_graded_in_one_process(tmp_path):
    big = [tmp_path / "a.csv"]
    assert not split_run.worth_splitting(big, json_output=False, outcome_map_given=False)
    write(big[0], gradebook(students=2))
    assert not split_run.worth_splitting(big, json_output=False, outcome_map_given=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=40), min_size=2, max_size=60),
       st.integers(min_value=2, max_value=5), st.booleans(), st.booleans())
@example([1, 1], 3, False, False)  # a cut searched from the first data line fell after the header
def test_cuts_fall_where_the_student_changes(tmp_path_factory, rows_per_student, parts, crlf,
                                             bom):
    """Whatever the file: the spans cover its data, in order, each starting on a line whose
    student differs from the line before's."""
    rows = [[f"{s:04d}", f"Name, {s}", TARGETS[s % len(TARGETS)], "3", "2026-09-01"]
            for s, count in enumerate(rows_per_student) for _ in range(count)]
    path = tmp_path_factory.mktemp("cuts") / "book.csv"
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n" if crlf else "\n")
        writer.writerow(HEADER[:5])
        writer.writerows(rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(split_run, "PART_BYTES", 1)
        cut = split_run._spans(split_run.PartJob(path, path.parent), parts)
    data = path.read_bytes()[3 if bom else 0:]
    if cut is None:  # only when no student starts past the first cut point
        tail = data[len(data) // parts :].split(b"\n")[1:-1]
        assert len({line.split(b",")[0] for line in tail}) <= 1
        return
    spans, header = cut
    assert header == HEADER[:5] and spans[0][0] == 0 and spans[-1][1] == len(data)
    assert all(start < end for start, end in spans)
    assert all(a[1] == b[0] for a, b in pairwise(spans))
    for start, _ in spans[1:]:
        assert data[start - 1 : start] == b"\n"
        before = data[data.rindex(b"\n", 0, start - 1) + 1 : start]
        after = data[start : data.index(b"\n", start) + 1]
        assert before.split(b",")[0] != after.split(b",")[0]
        assert not before.startswith(b"student_id")  # never in the header


def test_a_part_reads_with_the_file_s_line_numbers(tmp_path):
    file = write(tmp_path / "book.csv", [["a", "", "T", "1"], ["b", "", "T", "2"],
                                         ["c", "", "T", "3"]], HEADER[:4])
    data = file.read_bytes()
    decoded = sniff(data, str(file))
    cut = data.index(b"b,")
    first = read_records(part_of(decoded, 0, cut), str(file))
    second = read_records(part_of(decoded, cut, len(data)), str(file))
    assert list(first.starts) == [2] and list(second.starts) == [3, 4]
    assert second.chunked[0].to_pylist() == ["b", "c"]
    quoted = write(tmp_path / "quoted.csv", [["a", "x\ny", "T", "1"], ["b", "", "T", "2"]],
                   HEADER[:4])
    data = quoted.read_bytes()
    with pytest.raises(NotSplittable):
        read_records(part_of(sniff(data, str(quoted)), 0, len(data)), str(quoted))


def test_a_pending_file_takes_the_other_parts_after_its_own(tmp_path):
    pending = PendingFile(tmp_path / "x.csv")
    pending.write([b"head\n", b"1\n"])
    parts = []
    for index in range(2):
        part = tmp_path / f"part{index}"
        part.write_bytes(f"{index + 2}\n".encode() * 3)
        parts.append(str(part))
    pending.append(parts)
    pending.commit()
    assert (tmp_path / "x.csv").read_bytes() == b"head\n1\n2\n2\n2\n3\n3\n3\n"
    assert sorted(os.listdir(tmp_path)) == ["x.csv"]


def test_a_failure_putting_the_parts_in_place_leaves_the_previous_files(monkeypatch, tmp_path):
    """The parts' files, like the whole run's, are put in place all together or not at all
    (`OutputFolder`): the second file failing to move leaves last run's five files as they
    were, and no temporary file anywhere."""
    from mastery_cli import output

    file = write(tmp_path / "book.csv", gradebook(seed=41))
    out = tmp_path / "out"
    first = grade(monkeypatch, file, out, parts=1)
    assert first[0] == 0 and len(first[2]) == 5
    real_replace = os.replace
    moved: list[str] = []

    def replace(source, target):  # type: ignore[no-untyped-def]
        if output.STAGING_PREFIX in str(source) and output.STAGING_PREFIX not in str(target):
            moved.append(str(target))
            if len(moved) == 2:
                raise OSError(28, "No space left on device", str(target))
        real_replace(source, target)

    monkeypatch.setattr(output.os, "replace", replace)
    second = grade(monkeypatch, file, out, parts=2)
    assert second[0] == 2 and "error [output-failed]" in second[1], second[1]
    assert second[3] and second[3][0] is not None  # graded in parts, then refused
    assert second[2] == first[2]
    assert sorted(os.listdir(tmp_path)) == ["book.csv", "out"]
