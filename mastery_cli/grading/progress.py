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
from mastery_cli.grading.pipeline import OK, text_codes, text_column
from mastery_cli.grading.policy import Policy

PROGRESS_COLUMNS = [
    "student_id", "student_name", "progression", "mastered", "mastered_count", "targets_total",
    "ready_to_advance", "next_target",
]

#: Bits available in an int64 mask; longer progressions are read in their first 62 targets.
_MAX_TARGETS = 62


def progress_table(targets: pd.DataFrame, framework: Framework, policy: Policy) -> pd.DataFrame:
    """One row per student × progression in which the student has any target result."""
    student_codes, student_texts = text_codes(targets["student_id"])
    target_codes, target_texts = text_codes(targets["target"])
    name_codes, name_texts = text_codes(targets["student_name"])
    status_codes, status_texts = text_codes(targets["status"])
    is_mastered = (status_codes == (status_texts.index(OK) if OK in status_texts else -1)) & (
        targets["mastered"].fillna(False).to_numpy(dtype=bool)
    )
    order = np.argsort(student_codes, kind="stable")  # a no-op on the sorted target table
    progression_ids = sorted(p.id for p in framework.progressions.values() if p.targets)
    parts: list[dict[str, np.ndarray]] = []
    texts: dict[str, list[str]] = {"mastered": [], "next_target": []}
    for progression in framework.progressions.values():
        steps = progression.targets[:_MAX_TARGETS]
        if not steps:
            continue
        position = {target: index for index, target in enumerate(steps)}
        step_of = np.array([position.get(t, -1) for t in target_texts] or [-1], dtype=np.int64)
        rows = order[step_of[target_codes[order]] >= 0]
        if not len(rows):
            continue
        bits = np.where(
            is_mastered[rows], np.left_shift(np.int64(1), step_of[target_codes[rows]]), 0
        ).astype(np.int64)
        students = student_codes[rows]
        starts = np.flatnonzero(np.r_[True, students[1:] != students[:-1]])
        masks = np.add.reduceat(bits, starts)
        needed = max(1, math.ceil(policy.ready_share * len(steps) - 1e-9))
        distinct, mask_index = np.unique(masks, return_inverse=True)  # a handful of masks
        described = []
        for mask in distinct.tolist():
            done = [t for t, k in position.items() if mask >> k & 1]
            todo = [t for t in steps if not mask >> position[t] & 1]
            described.append((";".join(done), len(done), len(done) >= needed,
                              todo[0] if todo else ""))
        first_text = len(texts["mastered"])
        texts["mastered"] += [d[0] for d in described]
        texts["next_target"] += [d[3] for d in described]
        mask_index = mask_index.reshape(-1)
        parts.append({
            "student": students[starts],
            "name": name_codes[rows[starts]],
            "progression": np.full(len(starts), progression_ids.index(progression.id)),
            "text": first_text + mask_index,
            "count": np.array([d[1] for d in described], dtype=np.int64)[mask_index],
            "total": np.full(len(starts), len(steps), dtype=np.int64),
            "ready": np.array([d[2] for d in described], dtype=bool)[mask_index],
        })
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in PROGRESS_COLUMNS})
    joined = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    order = np.lexsort((joined["progression"], joined["student"]))
    joined = {key: values[order] for key, values in joined.items()}
    return pd.DataFrame({
        "student_id": text_column(student_texts, joined["student"]),
        "student_name": text_column(name_texts, joined["name"]),
        "progression": text_column(progression_ids, joined["progression"]),
        "mastered": text_column(texts["mastered"], joined["text"]),
        "mastered_count": joined["count"],
        "targets_total": joined["total"],
        "ready_to_advance": joined["ready"],
        "next_target": text_column(texts["next_target"], joined["text"]),
    })
