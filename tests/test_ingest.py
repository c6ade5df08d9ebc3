"""Reading gradebook exports: every format, every kind of bad input, and the accounting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mastery_cli.diagnostics import MasteryError, Severity
from mastery_cli.framework.model import Framework
from mastery_cli.grading.ingest import (
    FRAME_COLUMNS,
    REJECT_COLUMNS,
    EvidenceSet,
    IngestConfig,
    read_evidence,
)
from mastery_cli.validation import load_framework

DATA = Path(__file__).parent / "data" / "gradebooks"
POWERSCHOOL = {
    "student_id": "Student_Number",
    "student_name": "LastFirst",
    "target": "Standard Identifier",
    "score": "Standard Score",
    "date": "Score Entry Date",
    "assessment": "Assignment Name",
}


@pytest.fixture(scope="module")
def framework() -> Framework:
    loaded, _ = load_framework(DATA / "framework")
    return loaded


def read(framework: Framework, *names: str, **config: object) -> EvidenceSet:
    return read_evidence([DATA / n for n in names], framework, IngestConfig(**config))  # type: ignore[arg-type]


def codes(evidence: EvidenceSet) -> list[str]:
    return [d.code for d in evidence.diagnostics]


def reasons(evidence: EvidenceSet) -> dict[int, str]:
    return dict(zip(evidence.rejects["row"], evidence.rejects["reason"], strict=True))


READABLE = [
    ("long_basic.csv", {}),
    ("long_excel_eu.csv", {}),
    ("long_cp1252.csv", {}),
    ("long_tab.tsv", {}),
    ("wide.csv", {}),
    ("canvas_results_32.csv", {"outcome_map": {"777": "SCI.INQ.1"}}),
    ("canvas_results_17.csv", {}),
    ("canvas_results_empty.csv", {}),
    ("canvas_lmgb.csv", {}),
    ("canvas_lmgb_nosis.csv", {}),
    ("powerschool_mapped.csv", {"columns": POWERSCHOOL, "input_format": "mapped"}),
    ("bad_rows.csv", {}),
    ("header_only.csv", {}),
]


@pytest.mark.parametrize(("name", "config"), READABLE, ids=[n for n, _ in READABLE])
def test_every_unit_read_is_accepted_or_rejected(framework, name, config):
    evidence = read(framework, name, **config)
    assert evidence.rows_read == len(evidence.frame) + len(evidence.rejects)
    assert list(evidence.frame.columns) == list(FRAME_COLUMNS)
    assert list(evidence.rejects.columns) == list(REJECT_COLUMNS)
    assert evidence.frame["date"].dtype == "datetime64[ns]"
    assert evidence.frame["score"].dtype == "float64"
    assert evidence.frame["seq"].tolist() == list(range(len(evidence.frame)))
    summary = evidence.files[0]
    assert summary.read == summary.accepted + summary.set_aside + summary.rejected
    assert summary.unit in evidence.summary() or "evidence records" in evidence.summary()


def test_long_aliases_labels_and_statuses(framework):
    evidence = read(framework, "long_basic.csv")
    frame = evidence.frame
    assert frame["student_id"].tolist()[:1] == ["0012345"]  # leading zeros kept
    assert set(frame["student_id"]) == {"0012345", "0067890"}
    assert frame["target"].tolist() == [
        "MATH.ALG.1",
        "MATH.ALG.1",
        "MATH.ALG.2",
        "MATH.ALG.3",
        "MATH.ALG.1",
        "MATH.ALG.2",
        "MATH.ALG",
        "HAB.COL.1",
    ]
    # 3, Proficient, 2.5, EX, M, competente (Spanish label), 4 on a competency, U (short label)
    scores = frame["score"].tolist()
    assert scores[:3] == [3.0, 3.0, 2.5]
    assert np.isnan(scores[3]) and np.isnan(scores[4])
    assert scores[5:] == [3.0, 4.0, 3.0]
    assert frame["status"].tolist()[3:5] == ["excused", "missing"]
    assert frame["type"].tolist()[:2] == ["formative", "summative"]  # lower-cased
    assert frame["rater"].iloc[0] == "Ms. Lee"
    # A quoted comment with a line break: the next record starts two lines further down.
    assert frame["comment"].iloc[2] == "Good work,\nkeep going"
    assert frame["row"].tolist() == [2, 3, 4, 6, 7, 8, 9, 10]
    assert frame["date"].iloc[2] == pd.Timestamp("2025-09-18")  # MM/DD/YYYY
    assert frame["date"].iloc[3] == pd.Timestamp("2025-09-20 10:15")
    # The blank score is set aside as "no evidence", never a zero.
    assert reasons(evidence) == {11: "no-score"}
    assert "ignored-columns" in codes(evidence)


def test_excel_europe_bom_semicolon_decimal_comma_crlf(framework):
    evidence = read(framework, "long_excel_eu.csv")
    assert evidence.frame["score"].tolist() == [2.5, 3.0, 3.5]
    assert evidence.frame["student_id"].iloc[0] == "0012345"
    assert evidence.frame["student_name"].iloc[2] == "Chen; Bo"
    assert evidence.files[0].dialect.startswith("UTF-8 with BOM, semicolon")
    assert "CRLF" in evidence.files[0].dialect


def test_windows_1252_is_read_with_a_warning(framework):
    evidence = read(framework, "long_cp1252.csv")
    assert evidence.frame["student_name"].tolist() == ["Núñez, José", "Müller, Zoë"]
    (fallback,) = [d for d in evidence.diagnostics if d.code == "encoding-fallback"]
    assert fallback.severity is Severity.WARNING and fallback.line == 2


def test_wide_counts_non_blank_cells(framework):
    evidence = read(framework, "wide.csv")
    assert evidence.files[0].unit == "cells"
    assert evidence.rows_read == 7  # the all-blank row carried no evidence at all
    assert list(zip(evidence.frame["row"], evidence.frame["target"], strict=True)) == [
        (2, "MATH.ALG.1"),
        (2, "MATH.ALG.3"),
        (3, "MATH.ALG.1"),
        (3, "MATH.ALG.2"),
        (5, "MATH.ALG.2"),
    ]
    assert evidence.frame["status"].tolist()[3] == "excused"
    rejects = evidence.rejects
    assert rejects[["row", "column", "value", "reason"]].values.tolist() == [
        [5, "MATH.ALG.1", "5", "score-off-scale"],
        [5, "MATH.ALG.3", "x", "non-numeric-score"],
    ]
    assert "1–4" in rejects["message"].iloc[0]


def test_canvas_outcome_results_32_columns(framework):
    evidence = read(framework, "canvas_results_32.csv", outcome_map={"777": "SCI.INQ.1"})
    frame = evidence.frame
    assert frame["target"].tolist() == ["MATH.ALG.1", "MATH.ALG.1", "SCI.INQ.1", "SCI.ARG.3"]
    # SIS id when there is one, Canvas's own id when the SIS id is N/A.
    assert frame["student_id"].tolist() == ["0012345", "102", "102", "0033333"]
    # 5 out of 5 points on a 1-4 scale is a 4.
    assert frame["score"].tolist() == [3.0, 4.0, 2.0, 3.0]
    # Canvas's ="..." protection of names starting with '=' is undone.
    assert frame["student_name"].iloc[3] == "=Smith, Eve"
    # The local date of a 9 pm submission stays that day.
    assert frame["date"].iloc[0] == pd.Timestamp("2025-09-10 21:03")
    assert frame["type"].tolist()[:2] == ["quiz", "assignment"]
    assert frame["section"].iloc[2] == "Period 2" and frame["course"].iloc[2] == "Biology"
    assert sorted(evidence.rejects["reason"]) == ["no-score", "unknown-target"]


def test_canvas_outcome_results_17_columns_has_no_points_to_rescale(framework):
    evidence = read(framework, "canvas_results_17.csv")
    assert "score-off-scale" in evidence.rejects["reason"].tolist()  # 5 with no points possible
    assert "unknown-target" in evidence.rejects["reason"].tolist()  # 777 is not mapped


def test_canvas_empty_report_is_a_warning(framework):
    evidence = read(framework, "canvas_results_empty.csv")
    assert evidence.rows_read == 0 and evidence.frame.empty
    assert codes(evidence) == ["no-outcomes"]


def test_canvas_mastery_gradebook(framework):
    evidence = read(framework, "canvas_lmgb.csv")
    frame = evidence.frame
    assert frame[["student_id", "target", "score"]].values.tolist() == [
        ["0012345", "MATH.ALG.1", 3.5],
        ["102", "MATH.ALG.1", 2.0],
        ["102", "MATH.ALG.2", 4.0],
    ]
    assert set(frame["type"]) == {"canvas-rollup"}
    assert set(frame["assessment"]) == {"Canvas rollup"}
    assert frame["date"].isna().all()


def test_canvas_mastery_gradebook_without_sis_column(framework):
    evidence = read(framework, "canvas_lmgb_nosis.csv")
    assert evidence.frame[["student_id", "target", "score"]].values.tolist() == [
        ["101", "MATH.GEO.1", 2.75]
    ]


def test_powerschool_export_through_a_column_mapping(framework):
    evidence = read(framework, "powerschool_mapped.csv", columns=POWERSCHOOL)
    assert evidence.files[0].format == "mapped"
    assert evidence.frame["score"].tolist() == [3.0, 4.0]
    assert evidence.frame["assessment"].iloc[0] == "Transformations quiz"


def test_powerschool_export_without_mapping_is_an_unknown_format(framework):
    with pytest.raises(MasteryError) as caught:
        read(framework, "powerschool_mapped.csv")
    assert [d.code for d in caught.value.diagnostics] == ["unknown-format"]


def test_mapping_that_names_a_missing_column(framework):
    with pytest.raises(MasteryError) as caught:
        read(framework, "long_basic.csv", input_format="mapped", columns={"target": "Skill"})
    assert caught.value.diagnostics[0].code == "mapped-column-missing"


def test_bad_rows_each_get_a_reason_and_a_line(framework):
    evidence = read(framework, "bad_rows.csv")
    assert reasons(evidence) == {
        2: "unknown-target",
        3: "score-off-scale",
        4: "non-numeric-score",
        5: "bad-date",
        7: "duplicate-row",
        8: "duplicate-row",
        10: "missing-student-id",
        11: "missing-target",
        13: "bad-row",
    }
    assert evidence.frame["row"].tolist() == [6, 9]
    assert evidence.rows_read == 11  # the all-blank padding row is not a record
    messages = dict(zip(evidence.rejects["reason"], evidence.rejects["message"], strict=False))
    assert "did you mean 'MATH.ALG" in messages["unknown-target"]
    assert "did you mean 'Proficient'" in messages["non-numeric-score"]
    assert "1–4" in messages["score-off-scale"]
    assert "2025-13-45" in messages["bad-date"]
    assert "line 6" in messages["duplicate-row"]
    values = dict(zip(evidence.rejects["reason"], evidence.rejects["value"], strict=False))
    assert values["unknown-target"] == "MATH.ALG.9"
    columns = dict(zip(evidence.rejects["reason"], evidence.rejects["column"], strict=False))
    assert columns["bad-date"] == "date" and columns["non-numeric-score"] == "score"
    found = codes(evidence)
    assert found.count("duplicate-row") == 1  # one warning with the count
    assert "conflicting-student-name" in found
    (conflict,) = [d for d in evidence.diagnostics if d.code == "conflicting-student-name"]
    assert "Rivera, Ana" in conflict.message and "Rivera, Anna" in conflict.message
    located = [d for d in evidence.diagnostics if d.code == "non-numeric-score"]
    assert (located[0].line, located[0].column, located[0].pointer) == (4, 4, "score")
    assert located[0].hint == "did you mean 'Proficient'?"


def test_rejects_say_whose_evidence_they_were(framework):
    """reject_owners, row for row with the rejects: the student id and the framework's target
    id, "" where the row names none (for `mastery explain`)."""
    evidence = read(framework, "bad_rows.csv")
    assert evidence.reject_owners is not None
    owners = list(zip(evidence.rejects["row"], evidence.reject_owners["student_id"],
                      evidence.reject_owners["target"], strict=True))
    assert owners == [
        (2, "0012345", ""),  # MATH.ALG.9 is not a target
        (3, "0012345", "MATH.ALG.1"),
        (4, "0012345", "MATH.ALG.1"),
        (5, "0012345", "MATH.ALG.1"),
        (7, "0012345", "MATH.ALG.1"),
        (8, "0012345", "MATH.ALG.1"),
        (10, "", "MATH.ALG.1"),
        (11, "0067890", ""),
        (13, "", ""),  # a malformed record
    ]


def test_wide_rejects_are_owned_by_the_row_and_the_column(framework, tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text("Student ID,Student Name,Assessment,Date,MATH.ALG.1,MATH.ALG.2\n"
                    "0012345,Ana,Unit 1,2025-09-20,3,9\n0067890,Bo,Unit 1,2025-09-20,x,2\n",
                    encoding="utf-8")
    evidence = read_evidence([wide], framework, IngestConfig())
    assert evidence.reject_owners is not None
    assert list(zip(evidence.rejects["value"], evidence.reject_owners["student_id"],
                    evidence.reject_owners["target"], strict=True)) == [
        ("9", "0012345", "MATH.ALG.2"), ("x", "0067890", "MATH.ALG.1")]


def test_keep_duplicates(framework):
    evidence = read(framework, "bad_rows.csv", keep_duplicates=True)
    assert evidence.frame["row"].tolist() == [6, 7, 8, 9]
    assert evidence.duplicates_dropped == 0


def test_missing_scored_as_a_number(framework):
    evidence = read(framework, "long_basic.csv", missing=1)
    chen = evidence.frame[evidence.frame["row"] == 7].iloc[0]
    assert (chen["status"], chen["score"]) == ("scored", 1.0)


@pytest.mark.parametrize(
    ("name", "code"),
    [("unknown_header.csv", "unknown-format"), ("empty.csv", "empty-file")],
)
def test_unreadable_files_stop_with_an_error(framework, name, code):
    with pytest.raises(MasteryError) as caught:
        read(framework, name)
    assert [d.code for d in caught.value.diagnostics] == [code]
    assert not caught.value.usage


def test_unknown_format_names_the_expected_columns(framework):
    with pytest.raises(MasteryError) as caught:
        read(framework, "unknown_header.csv")
    hint = caught.value.diagnostics[0].hint or ""
    assert "student_id, target and score" in hint and "Canvas" in hint


def test_header_only_is_a_warning(framework):
    evidence = read(framework, "header_only.csv")
    assert codes(evidence) == ["no-data-rows"] and evidence.rows_read == 0


def test_missing_file(framework):
    with pytest.raises(MasteryError) as caught:
        read(framework, "no-such-file.csv")
    assert caught.value.diagnostics[0].code == "file-not-found"


def test_several_files_continue_seq_and_name_the_file(framework):
    evidence = read(framework, "long_basic.csv", "wide.csv", "canvas_lmgb.csv")
    frame = evidence.frame
    assert frame["seq"].tolist() == list(range(len(frame)))
    assert [Path(f).name for f in dict.fromkeys(frame["file"])] == [
        "long_basic.csv",
        "wide.csv",
        "canvas_lmgb.csv",
    ]
    assert evidence.rows_read == 9 + 7 + 3
    assert evidence.rows_read == len(frame) + len(evidence.rejects)
    assert [f.format for f in evidence.files] == ["long", "wide", "canvas-lmgb"]


def test_conflicting_names_across_files(framework, tmp_path):
    other = tmp_path / "transfer.csv"
    other.write_text("student_id,student_name,target,score\n0012345,Ana Rivera,MATH.ALG.1,2\n")
    evidence = read_evidence([DATA / "long_basic.csv", other], framework, IngestConfig())
    (conflict,) = [d for d in evidence.diagnostics if d.code == "conflicting-student-name"]
    assert "long_basic.csv line 2" in conflict.message and "transfer.csv line 2" in conflict.message


def test_terminal_listing_is_capped_per_reason(framework, tmp_path):
    lines = ["student_id,target,score"] + [f"{i:05d},NOPE.{i},3" for i in range(50)]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n")
    evidence = read_evidence([path], framework, IngestConfig(max_listed_per_reason=20))
    listed = [d for d in evidence.diagnostics if d.code == "unknown-target"]
    assert len(listed) == 21 and "30 more" in listed[-1].message
    assert len(evidence.rejects) == 50


def test_scores_on_the_wrong_scale_say_which_scale(framework, tmp_path):
    path = tmp_path / "habits.csv"
    path.write_text("student_id,target,score\n001,HAB.COL.1,Proficient\n")
    evidence = read_evidence([path], framework, IngestConfig())
    message = evidence.rejects["message"].iloc[0]
    assert "scale 'academic'" in message and "'habits'" in message


def test_quoted_newlines_and_blank_lines_keep_physical_line_numbers(framework, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text(
        "student_id,target,score,comment\n"
        '001,MATH.ALG.1,3,"one\ntwo\nthree"\n'
        "\n"
        "002,MATH.ALG.1,9,plain\n"
    )
    evidence = read_evidence([path], framework, IngestConfig())
    assert evidence.frame["row"].tolist() == [2]
    assert evidence.rejects["row"].tolist() == [6]


def test_leading_zero_ids_survive_in_every_format(framework):
    evidence = read(framework, "long_basic.csv", "wide.csv", "canvas_lmgb.csv", "long_excel_eu.csv")
    assert "0012345" in set(evidence.frame["student_id"])
    assert not any(
        s.isdigit() and not s.startswith("0") and len(s) == 5 for s in evidence.frame["student_id"]
    )


@pytest.mark.parametrize(
    ("start", "kind"),
    [(b"PK\x03\x04\x14\x00\x00\x00", ".xlsx"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls"),
     (b"%PDF-1.7\n", "PDF")],
)
def test_a_workbook_or_pdf_is_named_not_read_as_text(framework, tmp_path, start, kind):
    file = tmp_path / "gradebook.csv"
    file.write_bytes(start + bytes(range(256)) * 8)
    with pytest.raises(MasteryError) as caught:
        read_evidence([file], framework, IngestConfig())
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "not-csv" and kind in diagnostic.message
    assert "CSV UTF-8" in (diagnostic.hint or "")


def test_an_unknown_header_is_shown_short(framework, tmp_path):
    file = tmp_path / "gradebook.csv"
    file.write_text("x" * 5000 + "," + ",".join(f"c{i}" for i in range(30)) + "\n1,2\n")
    with pytest.raises(MasteryError) as caught:
        read_evidence([file], framework, IngestConfig())
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "unknown-format"
    assert len(diagnostic.message) < 400 and "'c10'" in diagnostic.message
    assert "'c11'" not in diagnostic.message
