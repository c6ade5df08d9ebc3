"""Progressions: which targets of each progression a student has mastered, whether the student
is ready to advance, and the next target to work on.

Vectorised with a bit mask per student × progression: target ``k`` of a progression sets bit
``k`` when mastered, one integer sum per group gives every mask, and the few distinct masks are
turned into lists and next steps once each. Numpy only (no pandas).
"""

from __future__ import annotations

import math

import numpy as np

from mastery_cli.framework.model import Framework
from mastery_cli.grading.pipeline import OK, group_index
from mastery_cli.grading.policy import Policy
from mastery_cli.grading.table import Coded, Flags, Table, text_codes

PROGRESS_COLUMNS = [
    "student_id", "student_name", "progression", "mastered", "mastered_count", "targets_total",
    "ready_to_advance", "next_target",
]

#: Bits available in an int64 mask; longer progressions are read in their first 62 targets.
_MAX_TARGETS = 62


def progress_table(targets: Table, framework: Framework, policy: Policy) -> Table:
    """One row per student × progression in which the student has any target result."""
    student_codes, student_texts = text_codes(targets.coded("student_id"))
    target_column = targets.coded("target")
    names = targets.coded("student_name")
    mastered = targets["mastered"]
    is_mastered = targets.coded("status").equals_text(OK) & (
        mastered.true() if isinstance(mastered, Flags) else np.asarray(mastered, dtype=bool)
    )
    progressions = [p for p in framework.progressions.values() if p.targets]
    progression_ids = sorted(p.id for p in progressions)
    n_progressions = max(len(progression_ids), 1)
    positions = [
        {target: index for index, target in enumerate(p.targets[:_MAX_TARGETS])}
        for p in progressions
    ]
    # Each target text's places (progression, step), in framework order; a target in several
    # progressions gives its rows once per place ("layer").
    texts = [*target_column.texts, ""]  # code -1, a missing target, picks the last
    places = [
        [(progression_ids.index(p.id), position[t])
         for p, position in zip(progressions, positions, strict=True) if t in position]
        for t in texts
    ]
    codes = np.asarray(target_column.codes, dtype=np.int64)
    keys, bits, rows = [], [], []
    for layer in range(max((len(p) for p in places), default=0)):
        progression_of = np.array([p[layer][0] if len(p) > layer else -1 for p in places])
        step_of = np.array([p[layer][1] if len(p) > layer else 0 for p in places])
        layer_rows = np.flatnonzero(progression_of[codes] >= 0)
        layer_codes = codes[layer_rows]
        keys.append(student_codes[layer_rows] * n_progressions + progression_of[layer_codes])
        bits.append(np.where(is_mastered[layer_rows],
                             np.left_shift(np.int64(1), step_of[layer_codes]), 0))
        rows.append(layer_rows)
    key = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    if not len(key):
        # Plain (object) text columns: what the DataFrame of an empty table always had.
        return Table({c: np.zeros(0, dtype=object) for c in PROGRESS_COLUMNS}, 0)
    # One group per student × progression, in (student id, progression id) order.
    group, group_key = group_index(key, len(student_texts) * n_progressions)
    n_groups = len(group_key)
    masks = np.zeros(n_groups, dtype=np.int64)
    np.add.at(masks, group, np.concatenate(bits).astype(np.int64))
    first_row = np.full(n_groups, len(codes), dtype=np.int64)
    np.minimum.at(first_row, group, np.concatenate(rows))
    group_progression = group_key % n_progressions
    text = np.zeros(n_groups, dtype=np.int64)
    count = np.zeros(n_groups, dtype=np.int64)
    ready = np.zeros(n_groups, dtype=bool)
    described_texts: dict[str, list[str]] = {"mastered": [], "next_target": []}
    for progression, position in zip(progressions, positions, strict=True):
        steps = progression.targets[:_MAX_TARGETS]
        at = np.flatnonzero(group_progression == progression_ids.index(progression.id))
        if not len(at):
            continue
        needed = max(1, math.ceil(policy.ready_share * len(steps) - 1e-9))
        distinct, mask_index = np.unique(masks[at], return_inverse=True)  # a handful of masks
        described = []
        for mask in distinct.tolist():
            done = [t for t, k in position.items() if mask >> k & 1]
            todo = [t for t in steps if not mask >> position[t] & 1]
            described.append((";".join(done), len(done), len(done) >= needed,
                              todo[0] if todo else ""))
        mask_index = mask_index.reshape(-1)
        text[at] = len(described_texts["mastered"]) + mask_index
        described_texts["mastered"] += [d[0] for d in described]
        described_texts["next_target"] += [d[3] for d in described]
        count[at] = np.array([d[1] for d in described], dtype=np.int64)[mask_index]
        ready[at] = np.array([d[2] for d in described], dtype=bool)[mask_index]
    name_texts = [*names.texts, ""]
    name = np.asarray(names.codes, dtype=np.int64)[first_row]
    totals = np.array(
        [len(p.targets[:_MAX_TARGETS]) for p in sorted(progressions, key=lambda p: p.id)],
        dtype=np.int64,
    )
    return Table({
        "student_id": Coded(group_key // n_progressions, student_texts),
        "student_name": Coded(np.where(name < 0, len(name_texts) - 1, name), name_texts),
        "progression": Coded(group_progression, progression_ids),
        "mastered": Coded(text, described_texts["mastered"]),
        "mastered_count": count,
        "targets_total": totals[group_progression],
        "ready_to_advance": ready,
        "next_target": Coded(text, described_texts["next_target"]),
    }, n_groups)
