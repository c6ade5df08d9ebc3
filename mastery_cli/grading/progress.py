"""Progressions: which targets of each progression a student has mastered, whether the student
is ready to advance, and the next target to work on.

Vectorised with a bit mask per student: target ``k`` of a progression sets bit ``k`` when
mastered, one group-by sum gives every student's mask, and the few distinct masks are turned
into lists and next steps once each.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mastery_cli.framework.model import Framework
from mastery_cli.grading.pipeline import OK, sort_table
from mastery_cli.grading.policy import Policy

PROGRESS_COLUMNS = [
    "student_id", "student_name", "progression", "mastered", "mastered_count", "targets_total",
    "ready_to_advance", "next_target",
]

#: Bits available in an int64 mask; longer progressions are read in their first 62 targets.
_MAX_TARGETS = 62


def progress_table(targets: pd.DataFrame, framework: Framework, policy: Policy) -> pd.DataFrame:
    """One row per student × progression in which the student has any target result."""
    tables = []
    for progression in framework.progressions.values():
        steps = progression.targets[:_MAX_TARGETS]
        if not steps:
            continue
        position = {target: index for index, target in enumerate(steps)}
        rows = targets.loc[targets["target"].isin(position)]
        if rows.empty:
            continue
        mastered = (rows["status"] == OK) & rows["mastered"].fillna(False).astype(bool)
        bits = np.left_shift(np.int64(1), rows["target"].map(position).to_numpy(dtype=np.int64))
        work = pd.DataFrame({
            "student_id": rows["student_id"], "student_name": rows["student_name"],
            "bits": np.where(mastered.to_numpy(dtype=bool), bits, 0),
        })
        per_student = work.groupby("student_id", sort=True).agg(
            student_name=("student_name", "first"), mask=("bits", "sum")).reset_index()
        needed = max(1, math.ceil(policy.ready_share * len(steps) - 1e-9))
        described = {}
        for mask in per_student["mask"].unique().tolist():  # distinct masks: a handful
            done = [t for t, k in position.items() if mask >> k & 1]
            todo = [t for t in steps if not mask >> position[t] & 1]
            described[mask] = (";".join(done), len(done), len(done) >= needed,
                               todo[0] if todo else "")
        masks = per_student["mask"]
        tables.append(pd.DataFrame({
            "student_id": per_student["student_id"].astype("str"),
            "student_name": per_student["student_name"].fillna("").astype("str"),
            "progression": progression.id,
            "mastered": masks.map({m: d[0] for m, d in described.items()}).astype("str"),
            "mastered_count": masks.map({m: d[1] for m, d in described.items()}).astype("int64"),
            "targets_total": len(steps),
            "ready_to_advance": masks.map({m: d[2] for m, d in described.items()}).astype(bool),
            "next_target": masks.map({m: d[3] for m, d in described.items()}).astype("str"),
        }))
    if not tables:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in PROGRESS_COLUMNS})
    return sort_table(pd.concat(tables, ignore_index=True), ["student_id", "progression"])
