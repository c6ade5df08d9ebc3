"""Invariants of the gradebook reader on generated files: nothing is lost, order is irrelevant."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastery_cli.framework.model import Framework
from mastery_cli.grading.ingest import IngestConfig, read_evidence
from mastery_cli.validation import load_framework

DATA = Path(__file__).parent / "data" / "gradebooks"
HEADER = ["student_id", "student_name", "target", "score", "date", "assessment"]

ids = st.sampled_from(["0012345", "0067890", "007", " 0099 ", ""])
targets = st.sampled_from(["MATH.ALG.1", "MATH.ALG.2", "HAB.COL.1", "MATH.ALG", "NOPE.1", ""])
scores = st.sampled_from(["1", "2.5", "4", "Proficient", "U", "EX", "M", "", "5", "abc", "0"])
dates = st.sampled_from(["2025-09-01", "09/15/2025", "", "2025-02-30", "yesterday"])
rows = st.lists(
    st.tuples(
        ids, st.sampled_from(["Ana", "Bo"]), targets, scores, dates, st.sampled_from(["Q1", "Q2"])
    ),
    min_size=0,
    max_size=40,
)


@pytest.fixture(scope="module")
def framework() -> Framework:
    loaded, _ = load_framework(DATA / "framework")
    return loaded


def write(path: Path, records: list[tuple[str, ...]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(records)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def accepted_set(evidence) -> list[tuple[object, ...]]:
    frame = evidence.frame
    return sorted(
        zip(
            frame["student_id"],
            frame["target"],
            frame["score"].fillna(-1),
            frame["status"],
            [str(d) for d in frame["date"]],
            frame["assessment"],
            strict=True,
        )
    )


def non_blank(records: list[tuple[str, ...]]) -> int:
    return sum(1 for r in records if any(v.strip() for v in r))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=rows, data=st.data())
def test_row_order_does_not_change_what_is_accepted(framework, tmp_path, records, data):
    shuffled = data.draw(st.permutations(records))
    first = read_evidence([write(tmp_path / "a.csv", records)], framework, IngestConfig())
    second = read_evidence([write(tmp_path / "b.csv", shuffled)], framework, IngestConfig())
    for evidence in (first, second):
        assert evidence.rows_read == len(evidence.frame) + len(evidence.rejects)
        assert evidence.rows_read == non_blank(records)
    assert accepted_set(first) == accepted_set(second)
    assert sorted(first.rejects["reason"]) == sorted(second.rejects["reason"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=rows)
def test_accepted_rows_are_valid_and_ids_are_kept_verbatim(framework, tmp_path, records):
    evidence = read_evidence([write(tmp_path / "c.csv", records)], framework, IngestConfig())
    frame = evidence.frame
    known = set(framework.targets) | set(framework.competencies)
    assert set(frame["target"]) <= known
    assert set(frame["student_id"]) <= {r[0].strip() for r in records}
    assert "" not in set(frame["student_id"])
    scored = frame[frame["status"] == "scored"]["score"]
    assert scored.between(1, 4).all()
    assert frame[frame["status"] != "scored"]["score"].isna().all()
    lines = sorted(frame["row"].tolist() + evidence.rejects["row"].tolist())
    assert len(set(lines)) == len(lines)  # each row in exactly one place
