"""Roll-ups: target results into competency results, competency results into course grades.

Both are group-by aggregations over whole columns (one row per student × competency or
student × course); the only Python loops run over scales, courses and grade rules, of which a
school has a handful.

Course grades use the course's competencies (efficacy competencies only when the policy says
so) plus any single targets the course covers outside those competencies. A student takes the
courses named in the evidence's ``course`` column (by id or title); a student whose evidence
names no known course takes every course in which they have an academic result.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from mastery_cli.framework.model import Framework, level_key
from mastery_cli.grading.pipeline import (
    EXCUSED,
    INSUFFICIENT,
    NOT_ASSESSED,
    OK,
    level_values,
    nullable_bool,
    sort_table,
)
from mastery_cli.grading.policy import Policy
from mastery_cli.grading.rounding import format_decimal, round_half_up

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


def _count(n: pd.Series, word: str) -> pd.Series:
    return n.astype("int64").astype("str") + " " + word + np.where(n == 1, "", "s")


def competency_table(targets: pd.DataFrame, framework: Framework, policy: Policy) -> pd.DataFrame:
    """One row per student × competency with any target result."""
    rollup = policy.competency_rollup
    t = targets
    ok = (t["status"] == OK).to_numpy(dtype=bool)
    score_ok = np.where(ok, t["score"].to_numpy(dtype=np.float64), np.nan)
    weight = (
        t["target"].map(lambda target: rollup.weights.get(target, 1.0)).to_numpy(dtype=np.float64)
        if rollup.weights
        else np.ones(len(t))
    )
    work = pd.DataFrame(
        {
            "student_id": t["student_id"],
            "competency": t["competency"],
            "student_name": t["student_name"],
            "ok": ok.astype(np.int64),
            "score_ok": score_ok,
            "weighted": np.where(ok, score_ok * weight, 0.0),
            "weight_ok": np.where(ok, weight, 0.0),
            "mastered_ok": (ok & t["mastered"].fillna(False).to_numpy(dtype=bool)).astype(np.int64),
            "excused": (t["status"] == EXCUSED).to_numpy(dtype=np.int64),
        }
    )
    grouped = work.groupby(["student_id", "competency"], sort=True, observed=True)
    agg = grouped.agg(
        student_name=("student_name", "first"),
        assessed=("ok", "sum"),
        rows=("ok", "size"),
        excused=("excused", "sum"),
        mastered=("mastered_ok", "sum"),
        mean=("score_ok", "mean"),
        minimum=("score_ok", "min"),
        median=("score_ok", "median"),
        weighted=("weighted", "sum"),
        weight=("weight_ok", "sum"),
    ).reset_index()
    method = rollup.method
    if method == "weighted_mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            score = (agg["weighted"] / agg["weight"]).to_numpy(dtype=np.float64)
    elif method in ("minimum", "median"):
        score = agg[method].to_numpy(dtype=np.float64)
    else:
        score = agg["mean"].to_numpy(dtype=np.float64)

    competencies = framework.competencies
    total = (
        agg["competency"]
        .map(lambda c: len(competencies[c].targets) if c in competencies else 0)
        .astype("int64")
    )
    status = np.where(
        agg["assessed"] >= rollup.min_targets,
        OK,
        np.where(agg["rows"] == agg["excused"], EXCUSED, INSUFFICIENT),
    )
    ok_rows = status == OK
    score = np.where(ok_rows, score, np.nan)

    level = np.full(len(agg), np.nan)
    label = np.full(len(agg), "", dtype=object)
    at_mastery = np.zeros(len(agg), dtype=bool)
    scale_of = {c.id: framework.scale_of(c) for c in competencies.values()}
    scale_ids = agg["competency"].map(lambda c: s.id if (s := scale_of.get(c)) else "")
    for scale_id in sorted(set(scale_ids)):
        scale = framework.scales.get(scale_id) or framework.default_scale
        if scale is None:
            continue
        mask = (scale_ids == scale_id).to_numpy(dtype=bool)
        level[mask] = level_values(
            score[mask], scale, policy.cut_points_for(scale.id), policy.places
        )
        labels = {lv.value: framework.text(lv.label) for lv in scale.levels}
        label[mask] = [labels.get(v, "") for v in level[mask]]
        at_mastery[mask] = level[mask] >= scale.mastery_value

    assessed = agg["assessed"]
    words = _ROLLUP_WORDS[method] + " of " + _count(assessed, "target")
    if method == "all_mastered":
        mastered = agg["mastered"].to_numpy() >= total.to_numpy()
        rule = (
            agg["mastered"].astype("str")
            + " of "
            + total.astype("str")
            + " targets at mastery (all needed); score: "
            + words
        )
    elif method == "n_of_m":
        n = rollup.n or 1
        mastered = agg["mastered"].to_numpy() >= n
        rule = (
            agg["mastered"].astype("str")
            + " of "
            + total.astype("str")
            + f" targets at mastery ({n} needed); score: "
            + words
        )
    else:
        mastered = at_mastery
        rule = words
    too_few = f"fewer than {rollup.min_targets} target{'s' if rollup.min_targets > 1 else ''} " \
        "with a result"
    kind = agg["competency"].map(lambda c: competencies[c].kind if c in competencies else "")
    table = pd.DataFrame(
        {
            "student_id": agg["student_id"].astype("str"),
            "student_name": agg["student_name"].fillna("").astype("str"),
            "competency": agg["competency"].astype("str"),
            "kind": kind.astype("str"),
            "score": score,
            "level": np.where(ok_rows, level, np.nan),
            "label": pd.array(np.where(ok_rows, label, ""), dtype="str"),
            "mastered": nullable_bool(mastered, ok_rows),
            "status": pd.array(status, dtype="str"),
            "targets_assessed": assessed.astype("int64"),
            "targets_mastered": agg["mastered"].astype("int64"),
            "targets_total": total,
            "rule": pd.Series(
                np.where(ok_rows, rule, np.where(status == EXCUSED, "", too_few)),
                dtype="str",
            ),
            "scale": scale_ids.astype("str"),
        }
    )
    return sort_table(table, ["student_id", "competency"])


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


def _enrolments(
    evidence: pd.DataFrame, units: pd.DataFrame, membership: pd.DataFrame, framework: Framework
) -> pd.DataFrame:
    names = _course_names(framework)
    distinct = evidence[["student_id", "course"]].drop_duplicates()
    distinct = distinct.assign(
        course=distinct["course"].fillna("").astype("str").str.strip().str.casefold().map(names)
    )
    named = distinct.dropna(subset=["course"]).drop_duplicates()
    unnamed_students = set(evidence["student_id"].unique()) - set(named["student_id"])
    covered = units.loc[
        (units["status"] == OK) & units["student_id"].isin(unnamed_students), ["student_id", "unit"]
    ].merge(membership, on="unit")
    pairs = pd.concat([named[["student_id", "course"]], covered[["student_id", "course"]]])
    return pairs.drop_duplicates().astype({"student_id": "str", "course": "str"})


def course_table(
    evidence: pd.DataFrame,
    targets: pd.DataFrame,
    competencies: pd.DataFrame,
    framework: Framework,
    policy: Policy,
) -> pd.DataFrame:
    """One row per student × course the student takes."""
    membership = _membership(framework, policy)
    unit_columns = ["student_id", "unit", "score", "level", "status"]
    units = pd.concat(
        [
            competencies.rename(columns={"competency": "unit"})[unit_columns],
            targets.rename(columns={"target": "unit"})[unit_columns],
        ],
        ignore_index=True,
    )
    enrolled = _enrolments(evidence, units, membership, framework)
    merged = enrolled.merge(membership, on="course").merge(
        units, on=["student_id", "unit"], how="left"
    )
    ok = (merged["status"] == OK).to_numpy(dtype=bool)
    level = np.where(ok, merged["level"].to_numpy(dtype=np.float64), np.nan)
    weight = merged["weight"].to_numpy(dtype=np.float64)
    if policy.course_grade.combine == "mean":
        weight = np.ones_like(weight)
    score = merged["score"].to_numpy(dtype=np.float64)
    work = pd.DataFrame(
        {
            "student_id": merged["student_id"],
            "course": merged["course"],
            "ok": ok.astype(np.int64),
            "weighted": np.where(ok, score * weight, 0.0),
            "weight": np.where(ok, weight, 0.0),
            "units": 1,
            "seen": merged["status"].notna().to_numpy(dtype=np.int64),
        }
    )
    grade_rules = policy.course_grade.rules
    for index, rule in enumerate(grade_rules):
        if rule.at_least_level is not None:
            work[f"at_least_{index}"] = (ok & (level >= rule.at_least_level)).astype(np.int64)
        if rule.none_below is not None:
            work[f"below_{index}"] = (ok & (level < rule.none_below)).astype(np.int64)
    grouped = (
        work.groupby(["student_id", "course"], sort=True, observed=True)
        .sum(numeric_only=True)
        .reset_index()
    )
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
    credits = grouped["course"].map(lambda c: framework.courses[c].credits)
    names = targets.drop_duplicates("student_id").set_index("student_id")["student_name"]
    table = pd.DataFrame(
        {
            "student_id": grouped["student_id"].astype("str"),
            "student_name": grouped["student_id"].map(names).astype(object).fillna("")
            .astype("str"),
            "course": grouped["course"].astype("str"),
            "grade": pd.array(grade.astype(object), dtype="str"),
            "score": combined,
            "status": pd.array(status.astype(object), dtype="str"),
            "rule": pd.array(rule_text.astype(object), dtype="str"),
            "credits": credits.astype("float64"),
            "units_assessed": assessed,
            "units_total": grouped["units"].astype("int64"),
        }
    )
    return sort_table(table, ["student_id", "course"])


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
            [
                f"conversion: {_plain(row.minimum)} or more is {row.grade}"
                for row in course.conversion
            ],
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


def _plain(value: float) -> str:
    return format_decimal(value, 2).rstrip("0").rstrip(".") if value % 1 else str(int(value))
