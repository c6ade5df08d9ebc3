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

Text is worked on as integer codes (`text_codes`): the reader's text columns are categorical
with sorted categories, so a code orders and groups exactly like its text, and students and
targets are never hashed or compared as strings per row. Result tables carry their text
columns as categoricals too (`text_column`), sorted by student id, then ids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
    outcome_map: Mapping[str, str] | None = None,
) -> GradeResult:
    """Read gradebook ``files`` and grade them with ``policy``.

    Raises MasteryError when the files cannot be read at all; row-level problems end up in
    ``rejects``. ``only_student`` grades one student's evidence (for ``mastery explain``).
    ``outcome_map`` (e.g. from a Canvas outcomes CSV) adds export names -> target ids to the
    policy's ``input.outcome_map``; the policy wins where both name the same outcome.
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
        outcome_map=merged_outcome_map(policy.input.outcome_map, outcome_map or {}),
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


def merged_outcome_map(
    policy_map: Mapping[str, str], extra: Mapping[str, str]
) -> dict[str, str]:
    """The policy's outcome map, then the names only ``extra`` has.

    The policy's entries come first because the matcher keeps the first entry for names that
    differ only in case or spacing: the policy wins those conflicts too.
    """
    merged = dict(policy_map)
    for name, target in extra.items():
        merged.setdefault(name, target)
    return merged


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


def text_codes(column: pd.Series) -> tuple[npt.NDArray[np.int64], list[str]]:
    """(code per row, distinct texts in sorted order) of a text column: code order is text
    order (byte order), so sorting or grouping by codes is sorting or grouping by text.

    The reader's categorical columns give their codes for free; any other column (plain
    strings) is factorised once. NA reads as "".
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        codes = np.asarray(column.cat.codes.to_numpy(), dtype=np.int64)
        texts = categories.tolist()  # one conversion (iterating an Index is slow)
        if not pd.api.types.is_string_dtype(categories.dtype):
            texts = [str(c) for c in texts]
        missing = bool(len(codes)) and int(codes.min()) < 0
        if not missing and texts == sorted(texts) and len(set(texts)) == len(texts):
            return codes, texts
    values = column.astype(object).fillna("").astype("str") if column.hasnans else column
    factor, uniques = pd.factorize(values.astype("str"), sort=True, use_na_sentinel=False)
    return np.asarray(factor, dtype=np.int64), [str(u) for u in uniques.tolist()]


def text_column(texts: Sequence[str], codes: npt.NDArray[np.integer[Any]]) -> pd.Categorical:
    """A categorical column ``texts[codes]`` with only the texts used, in sorted order."""
    used = np.bincount(codes, minlength=len(texts)) if len(codes) else np.zeros(0, np.int64)
    ordered = sorted({texts[c] for c in np.flatnonzero(used).tolist()})
    position = {text: i for i, text in enumerate(ordered)}
    remap = np.array([position.get(t, -1) for t in texts] or [-1], dtype=np.int32)
    return pd.Categorical.from_codes(
        remap[codes] if len(codes) else np.zeros(0, dtype=np.int32),
        categories=pd.Index(ordered, dtype="str"),
        validate=False,  # in range by construction
    )


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
    status_codes, status_texts = text_codes(ev["status"])
    is_excused = _is(status_codes, status_texts, "excused")
    is_missing = _is(status_codes, status_texts, "missing")
    score = ev["score"].to_numpy(dtype=np.float64, copy=True)
    if policy.missing_score is not None:
        # Missing work counts as a score: it becomes ordinary scored evidence.
        score[is_missing] = policy.missing_score
        if "scored" not in status_texts:
            status_texts = [*status_texts, "scored"]
        status_codes = np.where(is_missing, status_texts.index("scored"), status_codes)
        ev = ev.assign(status=text_column(status_texts, status_codes), score=score)
        is_missing = np.zeros(n, dtype=bool)
    info = _target_info(framework)
    target_codes, target_list = text_codes(ev["target"])
    known = np.array([t in info for t in target_list], dtype=bool)
    competency = _categorical(target_codes, [info.get(t, ("", None))[0] for t in target_list])

    rules = policy.evidence
    type_codes, type_list = text_codes(ev["type"])

    def by_type(test: Callable[[str], bool]) -> npt.NDArray[np.bool_]:
        per_type = np.array([test(t) for t in type_list], dtype=bool)
        return per_type[type_codes] if n else np.zeros(0, dtype=bool)

    dates = ev["date"]
    date_from, date_to = rules.date_from, rules.date_to
    conditions: list[Callable[[], npt.NDArray[np.bool_]] | None] = [
        lambda: ~known[target_codes] if n else np.zeros(0, dtype=bool),
        lambda: is_excused,
        lambda: is_missing,
        lambda: np.isnan(score),
        lambda: by_type(lambda t: rules.count_types is not None and t not in rules.count_types),
        lambda: by_type(lambda t: t in rules.exclude_types),
        lambda: by_type(lambda t: rules.weight_of(t) == 0),
        (lambda: (dates < pd.Timestamp(date_from)).to_numpy(dtype=bool))
        if date_from else None,
        (lambda: (dates >= pd.Timestamp(date_to) + pd.Timedelta(days=1)).to_numpy(dtype=bool))
        if date_to else None,
    ]
    # Reason codes: 0 = used, k = the k-th reason. The first condition that holds wins, so
    # they are applied from the last to the first.
    reason_code = np.zeros(n, dtype=np.int8)
    for k in range(len(conditions), 0, -1):
        condition = conditions[k - 1]
        if condition is not None:
            reason_code[condition()] = k
    weights = np.array([rules.weight_of(t) for t in type_list], dtype=np.float64)
    return ev.assign(
        competency=competency,
        reason=pd.Categorical.from_codes(reason_code,
                                         categories=pd.Index(["", *SET_ASIDE_REASONS])),
        used=reason_code == 0,
        weight=weights[type_codes] if n else np.zeros(0),
    )


def _is(codes: npt.NDArray[np.int64], texts: list[str], text: str) -> npt.NDArray[np.bool_]:
    return codes == texts.index(text) if text in texts else np.zeros(len(codes), dtype=bool)


def _set_aside_rows(ev: pd.DataFrame) -> pd.DataFrame:
    """The rows the policy set aside, as rejects.csv rows; the value shown is the cell the
    reason is about (the target, the type, the date or the status)."""
    aside = ev.take(np.flatnonzero(~ev["used"].to_numpy(dtype=bool)))
    reason_codes = aside["reason"].cat.codes.to_numpy()  # 0 is "" (used)
    reasons = ["", *SET_ASIDE_REASONS]
    about = np.array(["", *(_REASON_COLUMN[r] for r in SET_ASIDE_REASONS)], dtype=object)
    column_of = about[reason_codes]
    value = np.full(len(aside), "", dtype=object)
    for about_column, source in (("target", "target"), ("type", "type"), ("score", "status")):
        rows = np.flatnonzero(column_of == about_column)
        if len(rows):
            value[rows] = aside[source].take(rows).astype(object).fillna("").to_numpy()
    rows = np.flatnonzero(column_of == "date")
    if len(rows):
        dates = pd.DatetimeIndex(aside["date"].to_numpy()[rows])
        value[rows] = np.asarray(dates.strftime("%Y-%m-%d").fillna(""), dtype=object)
    messages = np.array(["", *SET_ASIDE_REASONS.values()], dtype=object)
    return pd.DataFrame(
        {
            "file": pd.array(aside["file"].astype(object).to_numpy(), dtype="str"),
            "row": aside["row"].to_numpy(dtype=np.int64),
            "column": pd.array(column_of, dtype="str"),
            "value": pd.array(value, dtype="str"),
            "reason": pd.array(np.array(reasons, dtype=object)[reason_codes], dtype="str"),
            "message": pd.array(messages[reason_codes], dtype="str"),
        }
    )


# --------------------------------------------------------------------------------------------
# Steps 2-4: order, compute, minimum evidence, levels
# --------------------------------------------------------------------------------------------


def _order_key(dates_ns: npt.NDArray[np.int64], policy: Policy) -> npt.NDArray[np.int64]:
    """Sort key of evidence dates (nanoseconds; NaT is the smallest int64)."""
    if policy.order_by == "input":
        return np.zeros(len(dates_ns), dtype=np.int64)
    undated = dates_ns == np.iinfo(np.int64).min
    if not undated.any():
        return dates_ns
    values = dates_ns.copy()
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


def group_index(keys: npt.NDArray[np.int64], key_count: int) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """(0-based group of each row, the key of each group) with groups in key order.

    Keys below ``key_count`` (student code × targets + target code): a bincount when that
    range is not much larger than the rows, else a hash factorisation.
    """
    if key_count <= max(4 * len(keys), 1 << 20):
        present = np.bincount(keys, minlength=key_count) > 0
        group_of_key = np.cumsum(present) - 1
        return group_of_key[keys], np.flatnonzero(present).astype(np.int64)
    codes, uniques = pd.factorize(keys, sort=True, use_na_sentinel=False)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=np.int64)


def _evidence_order(
    group: npt.NDArray[np.int64], dates: npt.NDArray[np.int64], seq: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Row order by group, then date, then input order (``seq``)."""
    if len(seq) > 1 and not bool(np.all(seq[1:] > seq[:-1])):
        return np.lexsort((seq, dates, group))
    # Rows already in input order (as the reader gives them): a stable sort on one combined
    # key does it, and it is fast on data that is mostly in order already.
    date_rank, distinct = pd.factorize(dates, sort=True)
    key = group * max(len(distinct), 1) + np.asarray(date_rank, dtype=np.int64)
    return np.argsort(key, kind="stable")


def _target_results(ev: pd.DataFrame, framework: Framework, policy: Policy) -> pd.DataFrame:
    info = _target_info(framework)
    reason_codes = ev["reason"].cat.codes.to_numpy()
    known = reason_codes != 1 + list(SET_ASIDE_REASONS).index("unknown-target")
    all_known = bool(known.all())

    def known_rows(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return values if all_known else values[known]

    student_all, student_texts = text_codes(ev["student_id"])
    target_all, target_texts = text_codes(ev["target"])
    student_codes = known_rows(student_all)
    target_codes = known_rows(target_all)
    n_targets = max(len(target_texts), 1)
    group_codes, group_keys = group_index(
        student_codes * n_targets + target_codes, max(len(student_texts), 1) * n_targets
    )
    n_groups = len(group_keys)
    group_student = group_keys // n_targets
    group_target = group_keys % n_targets

    # Per target: competency, scale, method spec, minimum evidence (a few hundred at most).
    target_list = target_texts
    competency_list = [info[t][0] if t in info else "" for t in target_list]
    scale_list = [info[t][1] or "" if t in info else "" for t in target_list]
    specs: list[methods.MethodSpec] = []
    spec_index = np.array(
        [
            _index_of(specs, policy.spec_for(t, c)) if t in info else 0
            for t, c in zip(target_list, competency_list, strict=True)
        ],
        dtype=np.int64,
    )
    min_evidence = np.array(
        [
            policy.min_evidence_for(t, c) if t in info else 1
            for t, c in zip(target_list, competency_list, strict=True)
        ],
        dtype=np.int64,
    )
    if not specs:
        specs.append(policy.spec_for("", ""))
    scale_ids = sorted(set(scale_list))
    scale_index = np.array([scale_ids.index(s) for s in scale_list], dtype=np.int64)

    # Order used evidence: group, then date, then input order.
    used = known_rows(ev["used"].to_numpy(dtype=bool))
    used_at = np.flatnonzero(used)
    u_group = group_codes[used_at]
    all_dates = ev["date"].to_numpy(dtype="datetime64[ns]")
    dates_ns = known_rows(all_dates.view(np.int64))[used_at]
    u_seq = known_rows(ev["seq"].to_numpy(dtype=np.int64))[used_at]
    order = _evidence_order(u_group, _order_key(dates_ns, policy), u_seq)
    u_group = u_group[order]
    u_score = known_rows(ev["score"].to_numpy(dtype=np.float64))[used_at][order]
    u_weight = known_rows(ev["weight"].to_numpy(dtype=np.float64))[used_at][order]
    u_partition = (spec_index * len(scale_ids) + scale_index)[group_target[u_group]]

    # Position of each used row in evidence order (for explain and grades.json).
    starts = np.flatnonzero(np.r_[True, u_group[1:] != u_group[:-1]]) if u_group.size else None
    full_position = np.full(len(ev), -1, dtype=np.int64)
    if starts is not None:
        counts = np.diff(np.r_[starts, u_group.size])
        within = np.arange(u_group.size) - np.repeat(starts, counts)
        rows_used = used_at[order] if all_known else np.flatnonzero(known)[used_at[order]]
        full_position[rows_used] = within
    ev["order"] = full_position

    value = np.full(n_groups, np.nan)
    count = np.zeros(n_groups, dtype=np.int64)
    method_status = np.full(n_groups, -1, dtype=np.int8)  # -1: no used evidence
    weights_given = bool(policy.evidence.type_weights)
    partitions: list[int] = (
        np.unique(u_partition[starts]).tolist() if starts is not None else []
    )
    for partition in partitions:
        # Whole groups share a partition, so a single partition needs no mask at all.
        mask = u_partition == partition if len(partitions) > 1 else slice(None)
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
    excused_code = 1 + list(SET_ASIDE_REASONS).index("excused")
    not_excused = known_rows(reason_codes) != excused_code
    all_excused = np.bincount(group_codes[not_excused], minlength=n_groups) == 0
    status = np.zeros(n_groups, dtype=np.int8)  # index into _TARGET_STATUS
    status[method_status == methods.STATUS_INSUFFICIENT] = 1
    status[method_status == methods.STATUS_NO_RESULT] = 2
    too_few = count < min_evidence[group_target]
    status[too_few] = 1
    status[(count == 0) & all_excused] = 3
    ok = status == 0
    value[~ok] = np.nan

    # Last date of used evidence per group (NaT when undated): groups are runs of u_group.
    last = np.full(n_groups, np.iinfo(np.int64).min, dtype=np.int64)
    if starts is not None:
        last[u_group[starts]] = np.maximum.reduceat(dates_ns[order], starts)
    last_date = last.view("datetime64[ns]").copy()
    last_date[last == np.iinfo(np.int64).min] = np.datetime64("NaT")

    # Levels, per scale (a loop over a couple of scales).
    level = np.full(n_groups, np.nan)
    label_code = np.zeros(n_groups, dtype=np.int64)
    label_texts = [""]
    mastered = np.zeros(n_groups, dtype=bool)
    group_scale = scale_index[group_target]
    for index, scale_id in enumerate(scale_ids):
        scale = framework.scales.get(scale_id) or _fallback_scale(framework)
        mask = group_scale == index if len(scale_ids) > 1 else slice(None)
        scale_levels = level_values(
            value[mask], scale, policy.cut_points_for(scale.id), policy.places
        )
        level[mask] = scale_levels
        values = sorted(scale.values)
        labels = {lv.value: framework.text(lv.label) for lv in scale.levels}
        first = len(label_texts)
        label_texts += [labels.get(v, "") for v in values]
        at = np.searchsorted(np.asarray(values, dtype=np.float64), scale_levels)
        label_code[mask] = np.where(np.isnan(scale_levels), 0, first + np.minimum(
            at, len(values) - 1))
        mastered[mask] = scale_levels >= scale.mastery_value
    label_code[~ok] = 0

    names = _student_names(ev, student_all, len(student_texts), known)
    spec_labels = [method_label(s) for s in specs]
    return pd.DataFrame(
        {
            "student_id": text_column(student_texts, group_student),
            "student_name": text_column(names, group_student),
            "target": text_column(target_list, group_target),
            "competency": text_column(competency_list, group_target),
            "method": text_column(spec_labels, spec_index[group_target]),
            "score": value,
            "level": np.where(ok, level, np.nan),
            "label": text_column(label_texts, label_code),
            "mastered": nullable_bool(mastered, ok),
            "evidence_count": count,
            "status": text_column(list(_TARGET_STATUS), status),
            "last_evidence_date": last_date,
            "scale": text_column(scale_ids, group_scale),
        }
    )


#: Status of a target result, by code (see `_target_results`).
_TARGET_STATUS = (OK, INSUFFICIENT, NO_RESULT, EXCUSED)


def _index_of(specs: list[methods.MethodSpec], spec: methods.MethodSpec) -> int:
    if spec not in specs:
        specs.append(spec)
    return specs.index(spec)


def _fallback_scale(framework: Framework) -> Scale:
    scale = framework.default_scale
    if scale is None:  # a validated framework always has a scale
        raise ValueError(f"framework '{framework.id}' has no scale")
    return scale


def _student_names(
    ev: pd.DataFrame,
    student_codes: npt.NDArray[np.int64],
    n_students: int,
    rows: npt.NDArray[np.bool_],
) -> list[str]:
    """Per student code: the first non-empty name in input order among ``rows`` ("" when
    none)."""
    name_codes, name_texts = text_codes(ev["student_name"])
    has_name = np.array([bool(t) for t in name_texts] or [False])[name_codes]
    named = np.flatnonzero(has_name & rows)
    seq = ev["seq"].to_numpy(dtype=np.int64)[named]
    if len(seq) > 1 and not bool(np.all(seq[1:] >= seq[:-1])):
        named = named[np.argsort(seq, kind="stable")]
    first = ~pd.Series(student_codes[named]).duplicated().to_numpy()
    chosen = named[first]
    names = [""] * n_students
    for student, name in zip(
        student_codes[chosen].tolist(), name_codes[chosen].tolist(), strict=True
    ):
        names[student] = name_texts[name]
    return names


def nullable_bool(values: npt.ArrayLike, known: npt.ArrayLike) -> pd.arrays.BooleanArray:
    """A boolean column that is NA where ``known`` is False (no result, so no "mastered")."""
    array = pd.array(np.asarray(values, dtype=bool), dtype="boolean")
    array[~np.asarray(known, dtype=bool)] = pd.NA
    return array
