"""Invariants of `mastery grade`: byte-identical outputs, whatever the input row order."""

from __future__ import annotations

import csv
import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastery_cli.grading.outputs import write_outputs
from mastery_cli.grading.pipeline import grade
from mastery_cli.grading.policy import apply_options
from mastery_cli.validation import load_framework

REPO = Path(__file__).resolve().parents[1]
FRAMEWORK, _ = load_framework(REPO / "tests" / "golden" / "grade" / "inputs" / "framework.yaml")
METHODS = ["decaying_average", "weighted_average", "power_law", "mode", "latest", "n_mastery",
           "median", "mean_top_n", "average"]

evidence = st.lists(
    st.tuples(
        st.sampled_from(["007", "010", "2", "abc"]),
        st.sampled_from(["T1", "T2", "T3", "T4", "H1"]),
        st.sampled_from(["1", "2", "3", "4", "2.5", "EX", ""]),
        st.sampled_from(["summative", "formative", "diagnostic"]),
    ),
    min_size=1, max_size=60,
)


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["student_id", "student_name", "target", "score", "date", "assessment",
                         "type", "section", "course"])
        writer.writerows(rows)
    return path


def outputs(folder: Path, rows: list[list[str]], method: str) -> dict[str, bytes]:
    file = write(folder / "scores.csv", rows)
    policy = apply_options(None, method, ["n=2"] if method in ("n_mastery", "mean_top_n") else [])
    result = grade([file], FRAMEWORK, policy)
    out = folder / "out"
    write_outputs(result, out, json_too=True)
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(evidence, st.sampled_from(METHODS), st.randoms(use_true_random=False))
def test_outputs_do_not_depend_on_row_order(
    rows: list[tuple[str, str, str, str]], method: str, rng: random.Random
) -> None:
    # Distinct dates, so evidence order is fully decided by the dates (ties would follow the
    # input order, which shuffling changes on purpose).
    table = [[sid, f"Name {sid}", target, score, f"2026-{9 + k // 28:02d}-{1 + k % 28:02d}",
              f"task {k}", kind, "P1", "CRS"]
             for k, (sid, target, score, kind) in enumerate(rows)]
    shuffled = table[:]
    rng.shuffle(shuffled)
    with tempfile.TemporaryDirectory() as folder:
        # The same file name each time: rejects.csv names the file.
        first = outputs(Path(folder), table, method)
        again = outputs(Path(folder), table, method)
        other_order = outputs(Path(folder), shuffled, method)
    assert first == again
    # rejects.csv lists rows by their line in the file, which shuffling changes; its content
    # apart from the row numbers must be the same.
    for name in first:
        if name != "rejects.csv":
            assert first[name] == other_order[name], name

    def without_rows(data: bytes) -> list[str]:
        return sorted(",".join(line.split(",")[:1] + line.split(",")[2:])
                      for line in data.decode().splitlines()[1:])

    assert without_rows(first["rejects.csv"]) == without_rows(other_order["rejects.csv"])


@settings(max_examples=30, deadline=None)
@given(evidence)
def test_rows_read_are_accounted_for(rows: list[tuple[str, str, str, str]]) -> None:
    table = [[sid, "", target, score, "2026-09-01", "t", kind, "", ""]
             for sid, target, score, kind in rows]
    with tempfile.TemporaryDirectory() as folder:
        file = write(Path(folder) / "scores.csv", table)
        result = grade([file], FRAMEWORK, apply_options(None, "average", []))
    counts = result.counts
    assert counts.rows_read == len(rows)
    assert counts.rows_read == counts.used + counts.set_aside + counts.rejected
    # a result exists for every student × target seen, and no score is ever a made-up zero
    ok = result.targets["status"] == "ok"
    assert result.targets.loc[~ok, "score"].isna().all()
    assert (result.targets.loc[ok, "score"] >= 1).all()
