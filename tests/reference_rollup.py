"""The roll-ups as they were before the engine dropped pandas: the reference the column
versions (`mastery_cli.grading.rollup`, `mastery_cli.grading.progress`) must match bit for bit.

A verbatim copy of ``competency_table``, ``course_table`` and ``progress_table`` (pandas
DataFrames in and out) with the pipeline helpers they used (``text_codes``, ``text_column``,
``nullable_bool``, ``level_values``), kept self-contained so that later changes to the engine
cannot change the reference.
"""


from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mastery_cli.framework.model import Framework, Scale, level_key
from mastery_cli.grading.policy import CompetencyRollup, Policy
from mastery_cli.grading.rounding import round_half_up

OK = "ok"
INSUFFICIENT = "insufficient-evidence"
EXCUSED = "excused"
NOT_ASSESSED = "not-assessed"


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


def nullable_bool(values: npt.ArrayLike, known: npt.ArrayLike) -> pd.arrays.BooleanArray:
    """A boolean column that is NA where ``known`` is False (no result, so no "mastered")."""
    array = pd.array(np.asarray(values, dtype=bool), dtype="boolean")
    array[~np.asarray(known, dtype=bool)] = pd.NA
    return array


# --------------------------------------------------------------------------------------------
# rollup.py
# --------------------------------------------------------------------------------------------

COMPETENCY_COLUMNS = [
    "student_id",
    "student_name",
    "competency",
    "kind",
    "score",
    "level",
    "label",
    "mastered",
    "status",
    "targets_assessed",
    "targets_mastered",
    "targets_total",
    "rule",
]
COURSE_COLUMNS = [
    "student_id",
    "student_name",
    "course",
    "grade",
    "score",
    "status",
    "rule",
    "credits",
    "units_assessed",
    "units_total",
]
_ROLLUP_WORDS = {
    "mean": "mean",
    "weighted_mean": "weighted mean",
    "minimum": "lowest",
    "median": "median",
    "all_mastered": "mean",
    "n_of_m": "mean",
}


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _texts_by_key(keys: npt.NDArray[np.int64], render: Callable[[int], str]) -> pd.Categorical:
    """A text column rendered once per distinct key (a handful) and gathered to the rows."""
    codes, distinct = pd.factorize(keys, sort=True)
    return text_column([render(int(k)) for k in distinct], np.asarray(codes, dtype=np.int64))


def _rollup_groups(
    competency_texts: list[str], policy: Policy
) -> tuple[list[CompetencyRollup], npt.NDArray[np.int64]]:
    """The distinct roll-ups in use (the policy's first) and each competency's index into them.

    A policy has one roll-up plus a few per-competency overrides: the table is computed once
    per distinct roll-up, not once per competency.
    """
    specs = [policy.competency_rollup]
    keys = [specs[0].key()]
    index_of = []
    for competency_id in competency_texts:
        rollup = policy.rollup_for(competency_id)
        if rollup.key() not in keys:
            keys.append(rollup.key())
            specs.append(rollup)
        index_of.append(keys.index(rollup.key()))
    return specs, np.array(index_of or [0], dtype=np.int64)


def _rollup_scores(
    rollup: CompetencyRollup,
    grouped: pd.api.typing.DataFrameGroupBy,
    work: pd.DataFrame,
    target_codes: npt.NDArray[np.int64],
    target_texts: list[str],
) -> npt.NDArray[np.float64]:
    """The score of every student × competency group as ``rollup`` computes it."""
    score_column = {"weighted_mean": None, "minimum": "min", "median": "median"}.get(
        rollup.method, "mean"
    )
    if score_column is not None:
        return np.asarray(grouped["score_ok"].agg(score_column).to_numpy(dtype=np.float64))
    weight = (
        np.array([rollup.weights.get(target, 1.0) for target in target_texts] or [1.0],
                 dtype=np.float64)[target_codes]
        if rollup.weights
        else np.ones(len(work))
    )
    ok = work["ok"].to_numpy(dtype=bool)
    sums = pd.DataFrame(
        {
            "key": work["key"],
            "weighted": np.where(ok, work["score_ok"].to_numpy(dtype=np.float64) * weight, 0.0),
            "weight_ok": np.where(ok, weight, 0.0),
        }
    ).groupby("key", sort=True).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(sums["weighted"].to_numpy(dtype=np.float64)
                          / sums["weight_ok"].to_numpy(dtype=np.float64))


def competency_table(targets: pd.DataFrame, framework: Framework, policy: Policy) -> pd.DataFrame:
    """One row per student × competency with any target result.

    Each competency rolls up as its override says (else as the policy's ``competency_rollup``):
    every column is computed once per distinct roll-up and each group takes its own.
    """
    t = targets
    status_codes, status_texts = text_codes(t["status"])
    ok = status_codes == (status_texts.index(OK) if OK in status_texts else -1)
    score_ok = np.where(ok, t["score"].to_numpy(dtype=np.float64), np.nan)
    target_codes, target_texts = text_codes(t["target"])
    student_codes, student_texts = text_codes(t["student_id"])
    competency_codes, competency_texts = text_codes(t["competency"])
    n_competencies = max(len(competency_texts), 1)
    specs, spec_of_competency = _rollup_groups(competency_texts, policy)
    # One integer key per student × competency, in (student id, competency id) text order.
    work = pd.DataFrame(
        {
            "key": student_codes * n_competencies + competency_codes,
            "ok": ok.astype(np.int64),
            "score_ok": score_ok,
            "mastered_ok": (ok & t["mastered"].fillna(False).to_numpy(dtype=bool)).astype(np.int64),
            "excused": status_codes == (
                status_texts.index(EXCUSED) if EXCUSED in status_texts else -1),
        }
    )
    work["excused"] = work["excused"].astype(np.int64)
    grouped = work.groupby("key", sort=True)
    sums = grouped[["ok", "excused", "mastered_ok"]].sum()
    agg = pd.DataFrame(
        {
            "assessed": sums["ok"].to_numpy(),
            "rows": grouped.size().to_numpy(),
            "excused": sums["excused"].to_numpy(),
            "mastered": sums["mastered_ok"].to_numpy(),
        }
    )
    keys = np.asarray(sums.index, dtype=np.int64)
    group_student = keys // n_competencies
    group_competency = keys % n_competencies
    group_spec = spec_of_competency[group_competency]
    score = np.full(len(keys), np.nan)
    for index, rollup in enumerate(specs):
        mask = group_spec == index
        if mask.any():
            score[mask] = _rollup_scores(rollup, grouped, work, target_codes, target_texts)[mask]
    min_targets = np.array([r.min_targets for r in specs], dtype=np.int64)[group_spec]

    competencies = framework.competencies
    total = np.array(
        [len(competencies[c].targets) if c in competencies else 0 for c in competency_texts]
        or [0],
        dtype=np.int64,
    )[group_competency]
    assessed = agg["assessed"].to_numpy(dtype=np.int64)
    mastered_count = agg["mastered"].to_numpy(dtype=np.int64)
    status = np.where(
        assessed >= min_targets,
        0,
        np.where(agg["rows"].to_numpy() == agg["excused"].to_numpy(), 1, 2),
    )  # index into (OK, EXCUSED, INSUFFICIENT)
    ok_rows = status == 0
    score = np.where(ok_rows, score, np.nan)

    level = np.full(len(agg), np.nan)
    label_code = np.zeros(len(agg), dtype=np.int64)
    label_texts = [""]
    at_mastery = np.zeros(len(agg), dtype=bool)
    scale_of = {c.id: framework.scale_of(c) for c in competencies.values()}
    scale_list = [s.id if (s := scale_of.get(c)) else "" for c in competency_texts]
    scale_ids = sorted(set(scale_list))
    group_scale = np.array([scale_ids.index(s) for s in scale_list] or [0], dtype=np.int64)[
        group_competency
    ]
    for index, scale_id in enumerate(scale_ids):
        scale = framework.scales.get(scale_id) or framework.default_scale
        if scale is None:
            continue
        mask = group_scale == index
        scale_levels = level_values(
            score[mask], scale, policy.cut_points_for(scale.id), policy.places
        )
        level[mask] = scale_levels
        labels = {lv.value: framework.text(lv.label) for lv in scale.levels}
        values = sorted(scale.values)
        at = np.searchsorted(np.asarray(values, dtype=np.float64), scale_levels)
        label_code[mask] = np.where(
            np.isnan(scale_levels), 0, len(label_texts) + np.minimum(at, len(values) - 1)
        )
        label_texts += [labels.get(v, "") for v in values]
        at_mastery[mask] = scale_levels >= scale.mastery_value

    # all_mastered: every target; n_of_m: n of them; otherwise the competency's own level.
    needed = np.array(
        [r.n or 1 if r.method == "n_of_m" else 0 for r in specs], dtype=np.int64
    )[group_spec]
    counts_targets = np.array([r.method in ("all_mastered", "n_of_m") for r in specs])[group_spec]
    needed = np.where(
        np.array([r.method == "all_mastered" for r in specs])[group_spec], total, needed
    )
    mastered = np.where(counts_targets, mastered_count >= needed, at_mastery)

    # The rule text depends on (roll-up, status, assessed, mastered, total): a handful of
    # distinct combinations, each written once.
    width = 1 + int(
        max(assessed.max(initial=0), mastered_count.max(initial=0), total.max(initial=0))
    )
    rule_key = (((group_spec * 3 + status) * width + assessed) * width
                + mastered_count) * width + total

    def render_rule(key: int) -> str:
        key, of = divmod(key, width)
        key, done = divmod(key, width)
        key, scored = divmod(key, width)
        spec_index, state = divmod(key, 3)
        rollup = specs[spec_index]
        if state == 1:
            return ""
        if state == 2:
            return (f"fewer than {rollup.min_targets} target"
                    f"{'s' if rollup.min_targets > 1 else ''} with a result")
        words = _ROLLUP_WORDS[rollup.method] + " of " + _count(scored, "target")
        if rollup.method == "all_mastered":
            return f"{done} of {of} targets at mastery (all needed); score: {words}"
        if rollup.method == "n_of_m":
            return f"{done} of {of} targets at mastery ({rollup.n or 1} needed); score: {words}"
        return words

    kinds = [competencies[c].kind if c in competencies else "" for c in competency_texts]
    return pd.DataFrame(
        {
            "student_id": text_column(student_texts, group_student),
            "student_name": _first_names(t, student_codes, len(student_texts), group_student),
            "competency": text_column(competency_texts, group_competency),
            "kind": text_column(kinds, group_competency),
            "score": score,
            "level": np.where(ok_rows, level, np.nan),
            "label": text_column(label_texts, np.where(ok_rows, label_code, 0)),
            "mastered": nullable_bool(mastered, ok_rows),
            "status": text_column([OK, EXCUSED, INSUFFICIENT], status),
            "targets_assessed": assessed,
            "targets_mastered": mastered_count,
            "targets_total": total,
            "rule": _texts_by_key(rule_key, render_rule),
            "scale": text_column(scale_ids, group_scale),
        }
    )


def _first_names(
    t: pd.DataFrame,
    student_codes: npt.NDArray[np.int64],
    n_students: int,
    rows: npt.NDArray[np.int64],
) -> pd.Categorical:
    """The student name column for result rows of students ``rows``: each student's first
    non-empty name in the target table."""
    name_codes, name_texts = text_codes(t["student_name"])
    named = np.flatnonzero(np.array([bool(n) for n in name_texts] or [False])[name_codes])
    first = named[~pd.Series(student_codes[named]).duplicated().to_numpy()]
    name_of = np.full(n_students, len(name_texts), dtype=np.int64)  # "" when no name
    name_of[student_codes[first]] = name_codes[first]
    return text_column([*name_texts, ""], name_of[rows])


# --------------------------------------------------------------------------------------------
# Courses
# --------------------------------------------------------------------------------------------


def _membership(framework: Framework, policy: Policy) -> pd.DataFrame:
    """(course, unit, weight): the competencies and single targets each course grade uses."""
    rows = []
    weights = policy.course_grade.weights
    for course in framework.courses.values():
        included = [
            c
            for c in course.competencies
            if c in framework.competencies
            and (policy.efficacy_in_course_grade or not framework.competencies[c].is_efficacy)
        ]
        for competency_id in included:
            rows.append((course.id, competency_id, weights.get(competency_id, 1.0)))
        for target_id in course.targets:
            target = framework.targets.get(target_id)
            if target is None or target.competency_id in course.competencies:
                continue
            if framework.competency_of(target).is_efficacy and not (
                policy.efficacy_in_course_grade
            ):
                continue
            rows.append((course.id, target_id, weights.get(target_id, 1.0)))
    return pd.DataFrame(rows, columns=["course", "unit", "weight"]).astype(
        {"course": "str", "unit": "str", "weight": "float64"}
    )


def _course_names(framework: Framework) -> dict[str, str]:
    """Every way the evidence may name a course (id, title in each language) -> course id."""
    names: dict[str, str] = {}
    for course in framework.courses.values():
        titles = [course.title] if isinstance(course.title, str) else list(course.title.values())
        for title in titles:
            names.setdefault(title.strip().casefold(), course.id)
    for course in framework.courses.values():
        names[course.id.casefold()] = course.id
    return names


def _ranges(starts: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """For runs ``[starts[i], starts[i] + counts[i])``: (run of each position, position)."""
    run = np.repeat(np.arange(len(counts)), counts)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return run, starts[run] + within


def _all_texts(*columns: pd.Series) -> tuple[list[str], list[npt.NDArray[np.int64]]]:
    """One sorted text universe for several text columns, and each column's codes in it."""
    coded = [text_codes(column) for column in columns]
    texts = sorted(set().union(*(t for _, t in coded)))
    position = {text: i for i, text in enumerate(texts)}
    return texts, [
        np.array([position[t] for t in own] or [0], dtype=np.int64)[codes] for codes, own in coded
    ]


def _enrolled_pairs(
    evidence: pd.DataFrame,
    evidence_students: npt.NDArray[np.int64],
    n_students: int,
    course_ids: list[str],
    unit_ok_rows: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    member_unit: npt.NDArray[np.int64],
    member_course: npt.NDArray[np.int64],
    framework: Framework,
) -> npt.NDArray[np.int64]:
    """Keys ``student * len(course_ids) + course`` of the courses each student takes: the
    courses the evidence names, or else every course with a unit the student has a result in.

    In the order a merge of the tables gives (named pairs in order of first appearance, then
    the others): pandas sums a group with ``np.add.reduceat`` when the rows come sorted by
    group and with compensated (Kahan) summation otherwise, and the last bit of a course score
    must not depend on how this function is written.
    """
    names = _course_names(framework)
    n_courses = max(len(course_ids), 1)
    course_codes, course_texts = text_codes(evidence["course"])
    folded = pc.utf8_trim_whitespace(pa.array(course_texts, pa.string())).to_pylist()
    index = {c: i for i, c in enumerate(course_ids)}
    named_ids = [names.get(t.casefold()) for t in folded]
    # -2: names no course; -1: a course whose grade uses no unit (it gets no row).
    course_of_text = np.array(
        [-2 if c is None else index.get(c, -1) for c in named_ids] or [-2], dtype=np.int64
    )
    course_of_row = course_of_text[course_codes]
    has_named = np.zeros(n_students, dtype=bool)
    has_named[evidence_students[course_of_row > -2]] = True
    graded = course_of_row >= 0
    named_keys = pd.unique(evidence_students[graded] * n_courses + course_of_row[graded])
    in_evidence = np.zeros(n_students, dtype=bool)
    in_evidence[evidence_students] = True
    unnamed = in_evidence & ~has_named
    students, units = unit_ok_rows
    chosen = unnamed[students]
    covered = pd.DataFrame({"student": students[chosen], "unit": units[chosen]}).merge(
        pd.DataFrame({"unit": member_unit, "course": member_course}), on="unit"
    )
    covered_keys = (covered["student"] * n_courses + covered["course"]).to_numpy(dtype=np.int64)
    return np.asarray(pd.unique(np.concatenate([named_keys, covered_keys])), dtype=np.int64)


def course_table(
    evidence: pd.DataFrame,
    targets: pd.DataFrame,
    competencies: pd.DataFrame,
    framework: Framework,
    policy: Policy,
) -> pd.DataFrame:
    """One row per student × course the student takes.

    Worked on integer codes: (student, course) pairs, each expanded to the course's units in
    the order the framework lists them, each unit joined to the student's result for it. The
    sums run over the rows of a pair in that order, as a merge of the tables would give them.
    """
    membership = _membership(framework, policy)
    students, (evidence_students, competency_students, target_students) = _all_texts(
        evidence["student_id"], competencies["student_id"], targets["student_id"]
    )
    units, (competency_units, target_units, member_unit) = _all_texts(
        competencies["competency"], targets["target"], membership["unit"]
    )
    course_ids = sorted(set(membership["course"].tolist()))
    course_index = {c: i for i, c in enumerate(course_ids)}
    member_course = np.array([course_index[c] for c in membership["course"].tolist()],
                             dtype=np.int64)
    member_weight = membership["weight"].to_numpy(dtype=np.float64)
    n_students, n_units, n_courses = len(students), max(len(units), 1), max(len(course_ids), 1)

    # Unit results: competencies, then targets (the order a concatenation gives).
    unit_student = np.concatenate([competency_students, target_students])
    unit_unit = np.concatenate([competency_units, target_units])
    unit_score = np.concatenate([competencies["score"].to_numpy(dtype=np.float64),
                                 targets["score"].to_numpy(dtype=np.float64)])
    unit_level = np.concatenate([competencies["level"].to_numpy(dtype=np.float64),
                                 targets["level"].to_numpy(dtype=np.float64)])
    unit_ok = np.concatenate([(competencies["status"] == OK).to_numpy(dtype=bool),
                              (targets["status"] == OK).to_numpy(dtype=bool)])
    pairs = _enrolled_pairs(
        evidence, evidence_students, n_students, course_ids,
        (unit_student[unit_ok], unit_unit[unit_ok]), member_unit, member_course, framework,
    )

    # Each pair -> the course's units (framework order) -> the student's results for them.
    by_course = np.argsort(member_course, kind="stable")
    members_per_course = np.bincount(member_course, minlength=n_courses)
    first_member = np.cumsum(members_per_course) - members_per_course
    pair_course = pairs % n_courses
    pair_of_row, member_at = _ranges(first_member[pair_course], members_per_course[pair_course])
    member = by_course[member_at]
    unit_keys = unit_student * n_units + unit_unit
    unit_order = np.argsort(unit_keys, kind="stable")
    sorted_keys = unit_keys[unit_order]
    wanted = (pairs[pair_of_row] // n_courses) * n_units + member_unit[member]
    left = np.searchsorted(sorted_keys, wanted, side="left")
    found = np.searchsorted(sorted_keys, wanted, side="right") - left
    row_of, at = _ranges(left, np.maximum(found, 1))
    seen = found[row_of] > 0
    result = (
        np.where(seen, unit_order[np.minimum(at, len(unit_order) - 1)], -1)
        if len(unit_order)
        else np.full(len(row_of), -1, dtype=np.int64)
    )

    ok = seen & np.where(seen, unit_ok[np.maximum(result, 0)], False) if len(unit_ok) else seen
    level = np.where(ok, unit_level[np.maximum(result, 0)], np.nan) if len(unit_level) else (
        np.full(len(result), np.nan))
    score = np.where(seen, unit_score[np.maximum(result, 0)], np.nan) if len(unit_score) else (
        np.full(len(result), np.nan))
    weight = member_weight[member[row_of]]
    if policy.course_grade.combine == "mean":
        weight = np.ones_like(weight)
    work = pd.DataFrame(
        {
            "key": pairs[pair_of_row][row_of],
            "ok": ok.astype(np.int64),
            "weighted": np.where(ok, score * weight, 0.0),
            "weight": np.where(ok, weight, 0.0),
            "units": np.ones(len(row_of), dtype=np.int64),
            "seen": seen.astype(np.int64),
        }
    )
    grade_rules = policy.course_grade.rules
    for index, rule in enumerate(grade_rules):
        if rule.at_least_level is not None:
            work[f"at_least_{index}"] = (ok & (level >= rule.at_least_level)).astype(np.int64)
        if rule.none_below is not None:
            work[f"below_{index}"] = (ok & (level < rule.none_below)).astype(np.int64)
    grouped = work.groupby("key", sort=True).sum().reset_index()
    group_student = grouped["key"].to_numpy(dtype=np.int64) // n_courses
    group_course = grouped["key"].to_numpy(dtype=np.int64) % n_courses
    with np.errstate(invalid="ignore", divide="ignore"):
        combined = (grouped["weighted"] / grouped["weight"]).to_numpy(dtype=np.float64)
    assessed = grouped["ok"].to_numpy(dtype=np.int64)
    status = np.where(
        assessed >= policy.course_grade.min_competencies,
        OK,
        np.where(grouped["seen"] > 0, INSUFFICIENT, NOT_ASSESSED),
    )
    has_grade = status == OK
    combined = np.where(has_grade, combined, np.nan)
    shown = round_half_up(combined, policy.places)
    grade, rule_text = _decide(grouped, shown, assessed, framework, policy)
    grade = np.where(has_grade, grade, "")
    rule_text = np.where(
        has_grade,
        rule_text,
        f"fewer than {policy.course_grade.min_competencies} competencies with a result",
    )
    status = np.where(has_grade & (grade == ""), "no-grade", status)
    credits = np.array([framework.courses[c].credits for c in course_ids] or [np.nan],
                       dtype=np.float64)[group_course]
    # Names: each student's first row in the target table ("" without one).
    name_codes, name_texts = text_codes(targets["student_name"])
    first_row = np.flatnonzero(~pd.Series(target_students).duplicated().to_numpy())
    name_of = np.full(n_students, len(name_texts), dtype=np.int64)
    name_of[target_students[first_row]] = name_codes[first_row]
    return pd.DataFrame(
        {
            "student_id": text_column(students, group_student),
            "student_name": text_column([*name_texts, ""], name_of[group_student]),
            "course": text_column(course_ids, group_course),
            "grade": _categorical_of(grade),
            "score": combined,
            "status": _categorical_of(status),
            "rule": _categorical_of(rule_text),
            "credits": credits,
            "units_assessed": assessed,
            "units_total": grouped["units"].to_numpy(dtype=np.int64),
        }
    )


def _categorical_of(values: npt.NDArray[np.object_] | npt.NDArray[np.str_]) -> pd.Categorical:
    """A categorical text column from a (small) array of texts."""
    codes, distinct = pd.factorize(np.asarray(values, dtype=object).astype(str))
    return text_column([str(d) for d in distinct], np.asarray(codes, dtype=np.int64))


def _decide(
    grouped: pd.DataFrame,
    shown: npt.NDArray[np.float64],
    assessed: npt.NDArray[np.int64],
    framework: Framework,
    policy: Policy,
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """(grade, the rule or conversion row that decided it) per student × course."""
    course = policy.course_grade
    n = len(grouped)
    if course.rules:
        conditions = []
        for index, rule in enumerate(course.rules):
            holds = np.ones(n, dtype=bool)
            if rule.at_least_level is not None:
                hits = grouped[f"at_least_{index}"].to_numpy(dtype=np.int64)
                if rule.at_least_count is not None:
                    holds &= hits >= rule.at_least_count
                else:
                    share = rule.at_least_share or 0.0
                    with np.errstate(invalid="ignore", divide="ignore"):
                        holds &= hits >= np.ceil(share * assessed - 1e-9)
            if rule.none_below is not None:
                holds &= grouped[f"below_{index}"].to_numpy(dtype=np.int64) == 0
            if rule.min_score is not None:
                holds &= shown >= rule.min_score
            conditions.append(holds)
        grades = np.select(conditions, [r.grade for r in course.rules], default="")
        texts = np.select(
            conditions, ["rule " + r.text() for r in course.rules], default="no rule matched"
        )
        return grades.astype(object), texts.astype(object)
    if course.conversion:
        conditions = [shown >= row.minimum for row in course.conversion]
        grades = np.select(conditions, [row.grade for row in course.conversion], default="")
        texts = np.select(
            conditions,
            [row.text() for row in course.conversion],
            default="below every row of the conversion table",
        )
        return grades.astype(object), texts.astype(object)
    # No table and no rules: the level the combined score reaches on the default scale.
    scale = framework.default_scale
    if scale is None:
        return np.full(n, "", dtype=object), np.full(n, "", dtype=object)
    levels = level_values(shown, scale, policy.cut_points_for(scale.id), policy.places)
    labels = {lv.value: framework.text(lv.label) for lv in scale.levels}
    words = course.combine.replace("_", " ")
    distinct = {
        v: (level_key(v), f"{words} read on the scale: level {level_key(v)} ({labels.get(v, '')})")
        for v in set(levels[~np.isnan(levels)].tolist())
    }
    as_series = pd.Series(levels)
    grade_of = as_series.map({v: g for v, (g, _) in distinct.items()}).astype(object)
    text_of = as_series.map({v: t for v, (_, t) in distinct.items()}).astype(object)
    return (grade_of.where(grade_of.notna(), "").to_numpy(dtype=object),
            text_of.where(text_of.notna(), "").to_numpy(dtype=object))


# --------------------------------------------------------------------------------------------
# progress.py
# --------------------------------------------------------------------------------------------

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
