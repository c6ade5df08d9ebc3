"""From accepted evidence to target results: filters, order, methods, minimum evidence, levels.

The work is a handful of whole-column operations, never a Python loop per student:

1. every row gets a reason it is set aside, or none (excused, missing, type filters, date
   window; the first reason that applies wins, in that order);
2. the used rows are sorted by student × target, then date, then input order (``seq``), so
   evidence order is stable and documented: equal dates keep file-then-row order, and undated
   evidence goes after dated evidence (``undated: last``, the default) or before it;
3. rows are partitioned by (method spec, scale) - a handful of partitions - and each partition
   is computed for all its groups at once by :func:`methods.compute`;
4. groups with fewer used rows than ``min_evidence`` become "insufficient-evidence" (never 0),
   and the score is read as a level through the scale's cut points.

The level is read from the score *as shown* (rounded half up to the policy's places), so a
family never sees 3.00 next to "Developing" because the average of 3, 3, 3 is
2.9999999999999996 in binary. Scores themselves stay at full precision until written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mastery_cli.diagnostics import Diagnostic
from mastery_cli.framework.model import Framework, Scale
from mastery_cli.grading import methods
from mastery_cli.grading.policy import Policy, method_label
from mastery_cli.grading.rounding import round_half_up

#: Status of a target, competency or course result.
OK = "ok"
INSUFFICIENT = "insufficient-evidence"
EXCUSED = "excused"
NO_RESULT = "no-result"
NOT_ASSESSED = "not-assessed"

#: Why a row was set aside by the policy, in order of precedence, with a message for people.
SET_ASIDE_REASONS: dict[str, str] = {
    "unknown-target": "not a target or competency of the framework",
    "excused": "excused",
    "missing": "missing work is ignored by the policy",
    "no-score": "no score",
    "type-not-counted": "this type of evidence does not count",
    "type-excluded": "this type of evidence is practice and does not count",
    "zero-weight": "this type of evidence has weight 0",
    "before-window": "dated before the grading window",
    "after-window": "dated after the grading window",
}

#: Which column a set-aside reason is about (for rejects.csv).
_REASON_COLUMN = {
    "unknown-target": "target",
    "excused": "score",
    "missing": "score",
    "no-score": "score",
    "type-not-counted": "type",
    "type-excluded": "type",
    "zero-weight": "type",
    "before-window": "date",
    "after-window": "date",
}

TARGET_COLUMNS = [
    "student_id",
    "student_name",
    "target",
    "competency",
    "method",
    "score",
    "level",
    "label",
    "mastered",
    "evidence_count",
    "status",
    "last_evidence_date",
]
REJECT_COLUMNS = ["file", "row", "column", "value", "reason", "message"]

StepCallback = Callable[[str], None]


#: Reasons of the reader's (ingest) rejects that are expected, not problems: a blank score is
#: no evidence, an exact duplicate row is dropped. They count as set aside, not rejected.
READER_SET_ASIDE = ("no-score", "duplicate-row")


@dataclass
class GradeCounts:
    """rows_read == used + set_aside + rejected (duplicates_dropped is part of set_aside)."""

    rows_read: int = 0
    used: int = 0
    set_aside: int = 0
    rejected: int = 0
    duplicates_dropped: int = 0


@dataclass
class GradeResult:
    """Everything ``mastery grade`` computed, as DataFrames reports can use in-process.

    ``targets``, ``competencies``, ``courses`` and ``progress`` are sorted by student id, then
    ids. ``evidence`` is the accepted evidence with ``used``, ``reason``, ``competency`` and
    ``order`` (0-based position in evidence order within student × target; -1 if not used).
    ``rejects`` holds rows the reader rejected; ``set_aside`` the rows the policy set aside, in
    the same columns (file, row, column, value, reason, message).
    """

    framework: Framework
    policy: Policy
    targets: pd.DataFrame
    competencies: pd.DataFrame
    courses: pd.DataFrame
    progress: pd.DataFrame
    evidence: pd.DataFrame
    rejects: pd.DataFrame
    set_aside: pd.DataFrame
    counts: GradeCounts
    diagnostics: list[Diagnostic] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def grade(
    files: Sequence[Path],
    framework: Framework,
    policy: Policy,
    *,
    input_format: str | None = None,
    keep_duplicates: bool = False,
    on_step: StepCallback | None = None,
    only_student: str | None = None,
) -> GradeResult:
    """Read gradebook ``files`` and grade them with ``policy``.

    Raises MasteryError when the files cannot be read at all; row-level problems end up in
    ``rejects``. ``only_student`` grades one student's evidence (for ``mastery explain``).
    """
    from mastery_cli.grading.ingest import IngestConfig, read_evidence

    step = on_step or (lambda name: None)
    step("read")
    config = IngestConfig(
        input_format=input_format or policy.input.format or "auto",
        columns=dict(policy.input.columns),
        date_format=policy.input.date_format,
        missing="ignore" if policy.missing_score is None else policy.missing_score,
        keep_duplicates=keep_duplicates,
        outcome_map=dict(policy.input.outcome_map),
        decimal=policy.input.decimal,
    )
    evidence = read_evidence(list(files), framework, config)
    frame = evidence.frame
    if only_student is not None:
        frame = frame.loc[frame["student_id"] == only_student]
    return grade_frame(
        frame,
        framework,
        policy,
        rejects=evidence.rejects,
        rows_read=evidence.rows_read if only_student is None else None,
        diagnostics=list(evidence.diagnostics),
        on_step=step,
    )


def grade_frame(
    frame: pd.DataFrame,
    framework: Framework,
    policy: Policy,
    *,
    rejects: pd.DataFrame | None = None,
    rows_read: int | None = None,
    diagnostics: list[Diagnostic] | None = None,
    on_step: StepCallback | None = None,
) -> GradeResult:
    """Grade an evidence frame (the ``EvidenceSet.frame`` contract) with ``policy``."""
    from mastery_cli.grading.progress import progress_table
    from mastery_cli.grading.rollup import competency_table, course_table

    step = on_step or (lambda name: None)
    rejects = _empty_rejects() if rejects is None else rejects.loc[:, REJECT_COLUMNS]
    step("grade")
    evidence = _prepare(frame, framework, policy)
    targets = _target_results(evidence, framework, policy)
    step("roll up")
    competencies = competency_table(targets, framework, policy)
    courses = course_table(evidence, targets, competencies, framework, policy)
    progress = progress_table(targets, framework, policy)
    set_aside = _set_aside_rows(evidence)
    used = int(evidence["used"].sum())
    reasons = rejects["reason"].astype("str")
    reader_aside = int(reasons.isin(READER_SET_ASIDE).sum())
    read = rows_read if rows_read is not None else len(frame) + len(rejects)
    counts = GradeCounts(
        rows_read=read,
        used=used,
        set_aside=len(evidence) - used + reader_aside,
        rejected=len(rejects) - reader_aside,
        duplicates_dropped=int((reasons == "duplicate-row").sum()),
    )
    return GradeResult(
        framework=framework,
        policy=policy,
        targets=targets,
        competencies=competencies,
        courses=courses,
        progress=progress,
        evidence=evidence,
        rejects=rejects,
        set_aside=set_aside,
        counts=counts,
        diagnostics=list(diagnostics or []),
    )


# --------------------------------------------------------------------------------------------
# Step 1: what counts
# --------------------------------------------------------------------------------------------


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "row" else "str") for c in REJECT_COLUMNS}
    )


def _target_info(framework: Framework) -> dict[str, tuple[str, str | None]]:
    """target or competency id -> (competency id, scale id)."""
    info: dict[str, tuple[str, str | None]] = {}
    for competency in framework.competencies.values():
        scale = framework.scale_of(competency)
        scale_id = scale.id if scale else None
        info[competency.id] = (competency.id, scale_id)
        for target in competency.targets:
            info[target.id] = (competency.id, scale_id)
    return info


def _categorical(codes: npt.NDArray[np.int64], labels: Sequence[str]) -> pd.Categorical[str]:
    """Text columns the pipeline adds are categorical: a million rows, a dozen values."""
    distinct = list(dict.fromkeys(labels))
    remap = np.array([distinct.index(label) for label in labels], dtype=np.int64)
    return pd.Categorical.from_codes(remap[codes] if len(codes) else codes,
                                     categories=pd.Index(distinct))


def _prepare(frame: pd.DataFrame, framework: Framework, policy: Policy) -> pd.DataFrame:
    """The evidence with ``reason`` (why set aside, "" when used), ``used``, ``competency``
    and ``weight``. String columns are compared whole (no per-row Python objects)."""
    ev = frame.reset_index(drop=True)
    n = len(ev)
    is_excused = (ev["status"] == "excused").to_numpy(dtype=bool, na_value=False)
    is_missing = (ev["status"] == "missing").to_numpy(dtype=bool, na_value=False)
    score = ev["score"].to_numpy(dtype=np.float64, copy=True)
    if policy.missing_score is not None:
        # Missing work counts as a score: it becomes ordinary scored evidence.
        score[is_missing] = policy.missing_score
        ev = ev.assign(status=ev["status"].where(~is_missing, "scored"), score=score)
        is_missing = np.zeros(n, dtype=bool)
    info = _target_info(framework)
    target_codes, target_ids = pd.factorize(ev["target"], use_na_sentinel=False)
    target_codes = target_codes.astype(np.int64)
    known = np.array([str(t) in info for t in target_ids], dtype=bool)
    competency = _categorical(target_codes,
                              [info.get(str(t), ("", None))[0] for t in target_ids])

    rules = policy.evidence
    type_codes, type_ids = pd.factorize(ev["type"].fillna(""), use_na_sentinel=False)
    type_list = [str(t) for t in type_ids]

    def by_type(test: Callable[[str], bool]) -> npt.NDArray[np.bool_]:
        per_type = np.array([test(t) for t in type_list], dtype=bool)
        return per_type[type_codes] if n else np.zeros(0, dtype=bool)

    dates = ev["date"]
    never = np.zeros(n, dtype=bool)
    conditions = [
        ~known[target_codes] if n else never,
        is_excused,
        is_missing,
        np.isnan(score),
        by_type(lambda t: rules.count_types is not None and t not in rules.count_types),
        by_type(lambda t: t in rules.exclude_types),
        by_type(lambda t: rules.weight_of(t) == 0),
        (dates < pd.Timestamp(rules.date_from)).to_numpy(dtype=bool)
        if rules.date_from else never,
        (dates >= pd.Timestamp(rules.date_to) + pd.Timedelta(days=1)).to_numpy(dtype=bool)
        if rules.date_to else never,
    ]
    # Reason codes: 0 = used, k = the k-th reason (the first condition that holds wins).
    reason_code = np.select(conditions, list(range(1, len(conditions) + 1)), default=0)
    weights = np.array([rules.weight_of(t) for t in type_list], dtype=np.float64)
    return ev.assign(
        competency=competency,
        reason=pd.Categorical.from_codes(reason_code.astype(np.int64),
                                         categories=pd.Index(["", *SET_ASIDE_REASONS])),
        used=reason_code == 0,
        weight=weights[type_codes] if n else np.zeros(0),
    )


def _set_aside_rows(ev: pd.DataFrame) -> pd.DataFrame:
    aside = ev.loc[~ev["used"].to_numpy(dtype=bool)]
    aside = aside.assign(reason=aside["reason"].astype(object).astype("str"))
    column = aside["reason"].map(_REASON_COLUMN)
    value = np.where(
        column == "target",
        aside["target"],
        np.where(
            column == "type",
            aside["type"],
            np.where(
                column == "date", aside["date"].dt.strftime("%Y-%m-%d").fillna(""), aside["status"]
            ),
        ),
    )
    table = pd.DataFrame(
        {
            "file": aside["file"].astype("str"),
            "row": aside["row"].astype("int64"),
            "column": column.astype("str"),
            "value": pd.array(value.astype(object), dtype="str"),
            "reason": aside["reason"].astype("str"),
            "message": aside["reason"].map(SET_ASIDE_REASONS).astype("str"),
        }
    )
    return table.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Steps 2-4: order, compute, minimum evidence, levels
# --------------------------------------------------------------------------------------------


def _order_key(dates: pd.Series, policy: Policy) -> npt.NDArray[np.int64]:
    if policy.order_by == "input":
        return np.zeros(len(dates), dtype=np.int64)
    values = dates.to_numpy(dtype="datetime64[ns]").view(np.int64).copy()
    undated = np.isnat(dates.to_numpy(dtype="datetime64[ns]"))
    values[undated] = np.iinfo(np.int64).max if policy.undated == "last" else np.iinfo(np.int64).min
    return values


def level_values(
    scores: npt.NDArray[np.float64],
    scale: Scale,
    cut_points: dict[float, float] | Any,
    places: int,
) -> npt.NDArray[np.float64]:
    """The level value each score reaches (NaN for NaN), read from the score as shown.

    A score reaches a level when it is at least the level's cut point (by default the level's
    own value); below the lowest cut point it is the lowest level.
    """
    ordered = sorted(scale.values)
    thresholds = np.array([cut_points.get(v, v) for v in ordered], dtype=np.float64)
    shown = round_half_up(scores, places)
    index = np.searchsorted(thresholds, shown, side="right") - 1
    index = np.clip(index, 0, len(ordered) - 1)
    result = np.asarray(ordered, dtype=np.float64)[index]
    result[np.isnan(shown)] = np.nan
    return result


def _target_results(ev: pd.DataFrame, framework: Framework, policy: Policy) -> pd.DataFrame:
    info = _target_info(framework)
    known = (ev["reason"] != "unknown-target").to_numpy(dtype=bool)
    needed = ["student_id", "student_name", "target", "score", "date", "seq", "used",
              "reason", "weight"]
    rows = ev[needed] if known.all() else ev.loc[known, needed]
    student_codes, student_ids = pd.factorize(rows["student_id"], use_na_sentinel=False)
    target_codes, target_ids = pd.factorize(rows["target"], use_na_sentinel=False)
    n_targets = max(len(target_ids), 1)
    gid_all = student_codes.astype(np.int64) * n_targets + target_codes.astype(np.int64)
    group_codes, group_keys = pd.factorize(gid_all, sort=True, use_na_sentinel=False)
    group_keys = np.asarray(group_keys, dtype=np.int64)
    n_groups = len(group_keys)
    group_student = group_keys // n_targets
    group_target = group_keys % n_targets

    # Per target: competency, scale, method spec, minimum evidence (a few hundred at most).
    target_list = [str(t) for t in target_ids]
    competency_list = [info[t][0] for t in target_list]
    scale_list = [info[t][1] or "" for t in target_list]
    specs: list[methods.MethodSpec] = []
    spec_index = np.array(
        [
            _index_of(specs, policy.spec_for(t, c))
            for t, c in zip(target_list, competency_list, strict=True)
        ],
        dtype=np.int64,
    )
    min_evidence = np.array(
        [policy.min_evidence_for(t, c) for t, c in zip(target_list, competency_list, strict=True)],
        dtype=np.int64,
    )
    scale_ids = sorted(set(scale_list))
    scale_index = np.array([scale_ids.index(s) for s in scale_list], dtype=np.int64)

    # Order used evidence: group, then date, then input order.
    used = rows["used"].to_numpy(dtype=bool)
    u_group = group_codes[used].astype(np.int64)
    u_date = _order_key(rows["date"], policy)[used]
    u_seq = rows["seq"].to_numpy(dtype=np.int64)[used]
    order = np.lexsort((u_seq, u_date, u_group))
    u_group = u_group[order]
    u_score = rows["score"].to_numpy(dtype=np.float64)[used][order]
    u_weight = rows["weight"].to_numpy(dtype=np.float64)[used][order]
    u_partition = (spec_index * len(scale_ids) + scale_index)[group_target[u_group]]

    # Position of each used row in evidence order (for explain and grades.json).
    position = np.full(len(rows), -1, dtype=np.int64)
    if u_group.size:
        starts = np.flatnonzero(np.r_[True, u_group[1:] != u_group[:-1]])
        counts = np.diff(np.r_[starts, u_group.size])
        within = np.arange(u_group.size) - np.repeat(starts, counts)
        used_positions = np.flatnonzero(used)[order]
        position[used_positions] = within
    full_position = np.full(len(ev), -1, dtype=np.int64)
    full_position[np.flatnonzero(known)] = position
    ev["order"] = full_position

    value = np.full(n_groups, np.nan)
    count = np.zeros(n_groups, dtype=np.int64)
    method_status = np.full(n_groups, -1, dtype=np.int8)  # -1: no used evidence
    weights_given = bool(policy.evidence.type_weights)
    for partition in np.unique(u_partition):
        mask = u_partition == partition
        spec = specs[int(partition) // len(scale_ids)]
        scale = framework.scales.get(scale_ids[int(partition) % len(scale_ids)])
        if scale is None:
            scale = _fallback_scale(framework)
        result = methods.compute(
            spec,
            u_group[mask],
            u_score[mask],
            u_weight[mask] if weights_given and spec.info.uses_weights else None,
            scale_min=scale.min_value,
            scale_max=scale.max_value,
            mastery_threshold=scale.mastery_value,
        )
        value[result.groups] = result.value
        count[result.groups] = result.count
        method_status[result.groups] = result.status

    # Status: excused-only groups, too little evidence, the method's own verdict.
    not_excused = (rows["reason"] != "excused").to_numpy(dtype=bool)
    all_excused = np.bincount(group_codes[not_excused], minlength=n_groups) == 0
    status = np.full(n_groups, OK, dtype=object)
    status[method_status == methods.STATUS_INSUFFICIENT] = INSUFFICIENT
    status[method_status == methods.STATUS_NO_RESULT] = NO_RESULT
    too_few = count < min_evidence[group_target]
    status[too_few] = INSUFFICIENT
    status[(count == 0) & all_excused] = EXCUSED
    value[status != OK] = np.nan

    # Last date of used evidence per group (NaT when undated).
    dates_ns = rows["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)[used]
    # Used rows are sorted by group (u_group): one segment maximum per group with evidence.
    last = np.full(n_groups, np.iinfo(np.int64).min, dtype=np.int64)
    if u_group.size:
        sorted_dates = dates_ns[order]
        segment = np.flatnonzero(np.r_[True, u_group[1:] != u_group[:-1]])
        last[u_group[segment]] = np.maximum.reduceat(sorted_dates, segment)
    last_date = last.view("datetime64[ns]").copy()
    last_date[last == np.iinfo(np.int64).min] = np.datetime64("NaT")

    # Levels, per scale (a loop over a couple of scales).
    level = np.full(n_groups, np.nan)
    label = np.full(n_groups, "", dtype=object)
    mastered = np.zeros(n_groups, dtype=bool)
    group_scale = scale_index[group_target]
    for index, scale_id in enumerate(scale_ids):
        scale = framework.scales.get(scale_id) or _fallback_scale(framework)
        mask = group_scale == index
        level[mask] = level_values(
            value[mask], scale, policy.cut_points_for(scale.id), policy.places
        )
        labels = {lv.value: framework.text(lv.label) for lv in scale.levels}
        label[mask] = [labels.get(v, "") for v in level[mask]]  # a few distinct values
        mastered[mask] = level[mask] >= scale.mastery_value
    ok = status == OK

    names = _student_names(rows)
    spec_labels = np.array([method_label(s) for s in specs], dtype=object)
    group_ids = pd.Series(np.asarray(student_ids, dtype=object)[group_student], dtype="str")
    table = pd.DataFrame(
        {
            "student_id": group_ids,
            "student_name": group_ids.map(names).astype(object).fillna("").astype("str"),
            "target": pd.array(np.asarray(target_list, dtype=object)[group_target], dtype="str"),
            "competency": pd.array(
                np.asarray(competency_list, dtype=object)[group_target], dtype="str"
            ),
            "method": pd.array(spec_labels[spec_index[group_target]], dtype="str"),
            "score": value,
            "level": np.where(ok, level, np.nan),
            "label": pd.array(np.where(ok, label, ""), dtype="str"),
            "mastered": nullable_bool(mastered, ok),
            "evidence_count": count,
            "status": pd.array(status, dtype="str"),
            "last_evidence_date": last_date,
            "scale": pd.array(
                np.asarray(scale_ids, dtype=object)[group_scale] if n_groups else [], dtype="str"
            ),
        }
    )
    return sort_table(table, ["student_id", "target"])


def _index_of(specs: list[methods.MethodSpec], spec: methods.MethodSpec) -> int:
    if spec not in specs:
        specs.append(spec)
    return specs.index(spec)


def _fallback_scale(framework: Framework) -> Scale:
    scale = framework.default_scale
    if scale is None:  # a validated framework always has a scale
        raise ValueError(f"framework '{framework.id}' has no scale")
    return scale


def _student_names(rows: pd.DataFrame) -> pd.Series:
    """student id -> the first non-empty name in input order."""
    named = rows.loc[
        rows["student_name"].fillna("").astype("str") != "", ["student_id", "student_name", "seq"]
    ]
    if not named["seq"].is_monotonic_increasing:  # the reader emits rows in input order
        named = named.sort_values("seq", kind="stable")
    named = named.drop_duplicates("student_id")
    return pd.Series(
        named["student_name"].to_numpy(dtype=object),
        index=named["student_id"].to_numpy(dtype=object),
    )


def nullable_bool(values: npt.ArrayLike, known: npt.ArrayLike) -> pd.arrays.BooleanArray:
    """A boolean column that is NA where ``known`` is False (no result, so no "mastered")."""
    array = pd.array(np.asarray(values, dtype=bool), dtype="boolean")
    array[~np.asarray(known, dtype=bool)] = pd.NA
    return array


def sort_table(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sorted by ``keys`` as text (byte order), ignoring input order; fresh index."""
    return table.sort_values(keys, kind="stable").reset_index(drop=True)
