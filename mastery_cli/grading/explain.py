"""Why a student has the result they have: for a target, a competency or a course grade.

What a teacher needs to answer a family's "why?": the evidence used in order (date,
assessment, type, score), what was set aside and why, the method with its parameters in words,
the arithmetic with intermediate values, and how the score became a level (or a grade).
The text is plain and works the same in a terminal, an e-mail or a printed page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mastery_cli.diagnostics import MasteryError, error, shortened
from mastery_cli.framework.model import Framework, Scale, level_key
from mastery_cli.grading import explain_math
from mastery_cli.grading.methods import describe
from mastery_cli.grading.pipeline import OK, READER_SET_ASIDE, SET_ASIDE_REASONS, GradeResult
from mastery_cli.grading.policy import Policy, RaterRule
from mastery_cli.grading.rounding import format_decimal, format_unrounded
from mastery_cli.plurals import noun
from mastery_cli.rubrics.evidence import criterion_note
from mastery_cli.validation.rules import did_you_mean


def explain_result(result: GradeResult, student: str, subject: str) -> str:
    """The explanation for ``student`` and ``subject`` (a target, competency or course id)."""
    framework = result.framework
    students = set(result.evidence["student_id"].astype("str"))
    if "student_id" in result.rejects:  # a student whose every row was rejected is known too
        students |= set(result.rejects["student_id"].astype("str")) - {""}
    if student not in students:
        raise MasteryError(error(
            "unknown-student", f"no evidence for student '{student}' in the files given",
            "STUDENT", hint=did_you_mean(student, students)
            or "student ids are compared as text: leading zeros count",
        ))
    if subject in framework.targets:
        return explain_target(result, student, subject)
    if subject in framework.competencies:
        return explain_competency(result, student, subject)
    if subject in framework.courses:
        return explain_course(result, student, subject)
    known = [*framework.targets, *framework.competencies, *framework.courses]
    raise MasteryError(error(
        "unknown-subject", f"'{subject}' is not a target, competency or course of framework "
        f"'{framework.id}'", "TARGET",
        hint=did_you_mean(subject, known) or "give a target, competency or course id",
    ))


def _num(value: float, places: int) -> str:
    """A score as the result files show it: rounded half up to the policy's places."""
    return format_decimal(value, places)


def _full(value: float, places: int) -> str:
    """A working value as a calculator shows it (unrounded, at least ``places`` decimals)."""
    return format_unrounded(value, places)


def _places(places: int) -> str:
    return "1 place" if places == 1 else f"{places} places"


def _shows_as(value: float, places: int) -> str:
    """"2.45 shows as 2.5 at 1 place" when rounding changes the score, else "2.50"."""
    full, shown = _full(value, places), _num(value, places)
    return shown if full == shown else f"{full} shows as {shown} at {_places(places)}"


def _result_line(value: float, places: int) -> str:
    """The result as the result files hold it, with the unrounded value when they differ."""
    full, shown = _full(value, places), _num(value, places)
    if full == shown:
        return f"Result: {shown}."
    return f"Result: {shown} ({full} rounded half up to {_places(places)})."


def _row(table: pd.DataFrame, **keys: str) -> Mapping[Any, Any] | None:
    mask = np.ones(len(table), dtype=bool)
    for column, value in keys.items():
        mask &= (table[column] == value).to_numpy(dtype=bool)
    rows = table.loc[mask]
    return None if rows.empty else rows.iloc[0].to_dict()


def _header(result: GradeResult, student: str, what: str) -> list[str]:
    names = result.targets.loc[result.targets["student_id"] == student, "student_name"]
    name = str(names.iloc[0]) if len(names) and names.iloc[0] else ""
    who = f"{student} ({name})" if name else student
    return [f"Student {who}: {what}", ""]


def _levels_text(scale: Scale, policy: Policy, framework: Framework) -> str:
    cuts = policy.cut_points_for(scale.id)
    parts = []
    for level in sorted(scale.levels, key=lambda lv: lv.value):
        start = cuts.get(level.value, level.value)
        parts.append(f"{level_key(level.value)} {framework.text(level.label)} from "
                     f"{start:g}")
    return "; ".join(parts)


def _level_lines(row: Mapping[Any, Any], scale: Scale | None, result: GradeResult) -> list[str]:
    policy, framework = result.policy, result.framework
    if row["status"] != OK or scale is None:
        return []
    shown = _shows_as(float(row["score"]), policy.places)
    reaches = ", which reaches" if " shows as " in shown else " reaches"
    mastered = "yes" if row["mastered"] else "no"
    return [
        f"Level: {shown}{reaches} level {level_key(row['level'])} ({row['label']}); "
        f"mastery is level {level_key(scale.mastery_value)}: mastered {mastered}.",
        f"  Levels on scale '{scale.id}' (the level follows the score as shown): "
        f"{_levels_text(scale, policy, framework)}.",
    ]


def _status_line(status: str) -> str:
    meaning = {
        "insufficient-evidence": "insufficient evidence: there is not enough evidence yet to "
                                 "give a result (this is not a zero)",
        "excused": "excused: every piece of evidence was excused",
        "no-result": "no result: the rule gives no single answer, the teacher decides",
        "not-assessed": "not assessed yet",
    }
    return f"Result: {meaning.get(status, status)}."


# --------------------------------------------------------------------------------------------
# Target
# --------------------------------------------------------------------------------------------


def explain_target(result: GradeResult, student: str, target_id: str) -> str:
    framework, policy = result.framework, result.policy
    target = framework.targets[target_id]
    competency = framework.competency_of(target)
    scale = framework.scale_of(competency)
    title = framework.text(target.title or target.statement)
    lines = _header(result, student, f"target {target_id} \"{title}\" (competency "
                                     f"{competency.id})")
    ev = result.evidence
    rows = ev.loc[(ev["student_id"] == student) & (ev["target"] == target_id)]
    used = rows.loc[rows["used"].to_numpy(dtype=bool)].sort_values("order")
    aside = rows.loc[~rows["used"].to_numpy(dtype=bool)].sort_values("seq")
    places = policy.places

    def describe_row(r: Mapping[Any, Any]) -> str:
        when = r["date"].strftime("%Y-%m-%d") if not pd.isna(r["date"]) else "(no date)"
        score = "-" if pd.isna(r["score"]) else _num(r["score"], places)
        kind = f" ({shortened(str(r['type']))})" if r["type"] else ""
        name = shortened(str(r["assessment"])) if r["assessment"] else "(no assessment name)"
        note = criterion_note(str(r.get("source") or ""))
        return f"{when}  {name}{kind}{f' [{note}]' if note else ''}  score {score}"

    other_ratings = _other_ratings(aside)
    more_ratings = int((aside["reason"] == "another-rater").sum())
    aside = aside.loc[(aside["reason"] != "another-rater").to_numpy(dtype=bool)]
    lines.append("Evidence used, oldest first (by date, then file and row):" if len(used)
                 else "Evidence used: none.")
    for k, r in enumerate(used.to_dict("records"), start=1):
        mates = other_ratings.get(_piece_key(r), []) if r.get("rater") else []
        if mates:  # one piece of work scored by several raters
            ratings = _ratings_text([r, *mates], policy.raters)
            where = ", ".join(f"{m['file']}:{m['row']}" for m in [r, *mates])
            lines.append(f"  {k}. {describe_row(r)}: {ratings}   [{where}]")
        else:
            lines.append(f"  {k}. {describe_row(r)}   [{r['file']}:{r['row']}]")
    reader_aside, rejected, no_target = _reader_rows(result, student, target_id)
    if len(aside) or reader_aside:
        lines.append("Set aside:")
        for r in aside.to_dict("records"):
            reason = SET_ASIDE_REASONS.get(r["reason"], r["reason"])
            lines.append(f"  - {describe_row(r)}: {reason} [{r['reason']}; {r['file']}:"
                         f"{r['row']}]")
        lines += [_reader_row_line(r) for r in reader_aside]
    if rejected:
        lines.append("Rejected (not counted; fix them in the file and grade again):")
        lines += [_reader_row_line(r) for r in rejected]
    n_aside = len(aside) + len(reader_aside)
    n_used = len(used) + more_ratings
    pieces = (f" (ratings of {len(used)} pieces of work)" if more_ratings else "")
    lines.append(f"Rows of this student for this target: {n_used + n_aside + len(rejected)} "
                 f"= {n_used} used{pieces} + {n_aside} set aside + {len(rejected)} rejected.")
    if no_target:
        lines.append("Rejected rows of this student with no target of the framework (if one "
                     "was meant for this target, fix its target cell):")
        lines += [_reader_row_line(r) for r in no_target]
    spec = policy.spec_for(target_id, competency.id)
    threshold = scale.mastery_value if scale else 3.0
    params = ", ".join(f"{k} {v}" for k, v in spec.params.items())
    method = f"Method: {spec.name}" + (f" ({params})" if params else "")
    lines += ["", method if len(used) else
              f"{method}: {describe(spec, mastery_threshold=threshold)}."]
    minimum = policy.min_evidence_for(target_id, competency.id)
    if minimum > 1:
        lines.append(f"The policy needs at least {minimum} pieces of evidence.")
    row = _row(result.targets, student_id=student, target=target_id)
    if len(used) and scale is not None:
        # Weights matter per type (policy) or per rubric criterion (rows from --rubric).
        criterion = (used["criterion_weight"].astype(str).str.strip()
                     if "criterion_weight" in used else None)
        weighted = bool(policy.evidence.type_weights) or (
            criterion is not None and bool(criterion.ne("").any()))
        weights = used["weight"].tolist() if weighted else None
        work = explain_math.explain(
            spec, used["score"].tolist(), weights,
            dates=[d.strftime("%Y-%m-%d") if not pd.isna(d) else "no date"
                   for d in used["date"]],
            scale_min=scale.min_value, scale_max=scale.max_value, mastery_threshold=threshold,
            places=places,
        )
        lines.append("Arithmetic:")
        lines += [f"  {step}" for step in work.steps]
        lines.append(f"  {work.summary}")
    if row is None:
        lines.append(_status_line("not-assessed"))
    elif row["status"] != OK:
        if len(used) < minimum and row["status"] == "insufficient-evidence":
            lines.append(f"Only {len(used)} piece{'s' if len(used) != 1 else ''} of evidence "
                         f"counted; the policy needs {minimum}.")
        lines.append(_status_line(str(row["status"])))
    else:
        lines.append(_result_line(float(row["score"]), places))
        lines += _level_lines(row, scale, result)
    return "\n".join(lines) + "\n"


def _piece_key(row: Mapping[Any, Any]) -> tuple[str, str]:
    """What makes rows one piece of work within a student's target: assessment and date."""
    return str(row["assessment"]), "" if pd.isna(row["date"]) else row["date"].isoformat()


def _other_ratings(aside: pd.DataFrame) -> dict[tuple[str, str], list[Mapping[Any, Any]]]:
    """The rows set aside as another rater's rating of a piece of work, by piece."""
    pieces: dict[tuple[str, str], list[Mapping[Any, Any]]] = {}
    for r in aside.loc[(aside["reason"] == "another-rater").to_numpy(dtype=bool)].to_dict(
            "records"):
        pieces.setdefault(_piece_key(r), []).append(r)
    return pieces


def _exact(value: float) -> str:
    """A rating or a resolved score as it is (3, 2.5, 2.675), not rounded for display; a
    value with more than 10 significant digits ends in "…"."""
    text = f"{value:.10g}"
    return text if float(text) == value else text + "…"


def _ratings_text(rows: list[Mapping[Any, Any]], rule: RaterRule) -> str:
    """Each rater's rating and how they became the piece's score, e.g.
    "rated 3 (Lee) and 2 (Kim) -> 2.5, the mean" (``rows[0]`` carries the score)."""
    rated = [f"{_exact(float(r.get('rating', r['score'])))} ({r['rater']})" for r in rows]
    listed = ", ".join(rated[:-1]) + " and " + rated[-1]
    how = f"the {rule.resolve}"
    if rule.resolve == "moderator":
        moderator = [str(r["rater"]) for r in rows if rule.is_moderator(str(r["rater"]))]
        how = (f"the moderator's rating ({moderator[0]})" if moderator else
               f"the mean (the moderator, {rule.moderator}, did not rate this work)")
    return f"rated {listed} -> {_exact(float(rows[0]['score']))}, {how}"


# --------------------------------------------------------------------------------------------
# Competency
# --------------------------------------------------------------------------------------------


def _target_line(r: Mapping[Any, Any], places: int) -> str:
    if r["status"] == OK:
        mastered = ", mastered" if r["mastered"] else ""
        return (f"  {r['target']}: {_num(r['score'], places)}, level {level_key(r['level'])} "
                f"{r['label']}{mastered}")
    return f"  {r['target']}: {r['status']}"


def explain_competency(result: GradeResult, student: str, competency_id: str) -> str:
    framework, policy = result.framework, result.policy
    competency = framework.competencies[competency_id]
    scale = framework.scale_of(competency)
    places = policy.places
    lines = _header(result, student, f"competency {competency_id} "
                                     f"\"{framework.text(competency.title)}\"")
    targets = result.targets.loc[(result.targets["student_id"] == student)
                                 & (result.targets["competency"] == competency_id)]
    target_count = len(competency.targets)
    lines.append(f"Target results ({len(targets)} of {target_count} "
                 f"{noun(target_count, 'target has', 'targets have')} evidence):")
    records = targets.to_dict("records")
    lines += [_target_line(r, places) for r in records]
    rollup = policy.rollup_for(competency_id)
    own = rollup is not policy.competency_rollup
    ok = [r for r in records if r["status"] == OK]
    lines += ["", f"Roll-up: {rollup.method.replace('_', ' ')}"
              + (f" (n = {rollup.n})" if rollup.method == "n_of_m" else "")
              + f"; needs results on at least {rollup.min_targets} target"
              + ("s" if rollup.min_targets != 1 else "")
              + (f" (this competency's override; the policy's roll-up is "
                 f"{policy.competency_rollup.method.replace('_', ' ')})." if own else ".")]
    row = _row(result.competencies, student_id=student, competency=competency_id)
    if ok:
        scores = [float(r["score"]) for r in ok]
        # Unrounded, as the roll-up adds them: a calculator redoes the line from the numbers.
        shown = " + ".join(_full(s, places) for s in scores)
        if rollup.method == "weighted_mean":
            weights = [rollup.weights.get(r["target"], 1.0) for r in ok]
            terms = " + ".join(f"{_full(s, places)} × {_full(w, 0)}" for s, w in
                               zip(scores, weights, strict=True))
            total = sum(s * w for s, w in zip(scores, weights, strict=True)) / sum(weights)
            lines.append(f"  ({terms}) / {_full(sum(weights), 0)} = {_full(total, places)}")
        elif rollup.method == "minimum":
            lines.append(f"  lowest of {', '.join(_full(s, places) for s in scores)} = "
                         f"{_full(min(scores), places)}")
        elif rollup.method == "median":
            lines.append(f"  median of {', '.join(_full(s, places) for s in sorted(scores))} = "
                         f"{_full(float(np.median(scores)), places)}")
        else:
            lines.append(f"  ({shown}) / {len(scores)} = "
                         f"{_full(sum(scores) / len(scores), places)}")
        if rollup.method in ("all_mastered", "n_of_m") and row is not None:
            needed = len(competency.targets) if rollup.method == "all_mastered" else rollup.n
            lines.append(f"  {row['targets_mastered']} of {len(competency.targets)} "
                         f"{noun(len(competency.targets), 'target', 'targets')} at "
                         f"mastery; {needed} needed: mastered "
                         f"{'yes' if row['mastered'] else 'no'}.")
    if row is None or row["status"] != OK:
        lines.append(_status_line(str(row["status"]) if row else "not-assessed"))
    else:
        lines.append(_result_line(float(row["score"]), places))
        lines += _level_lines(row, scale, result)
        if rollup.method in ("all_mastered", "n_of_m"):
            lines[-2] = lines[-2].split("; mastery is")[0] + (
                f"; mastered {'yes' if row['mastered'] else 'no'} by the roll-up rule.")
    if competency.is_efficacy and not policy.efficacy_in_course_grade:
        lines.append("This is an efficacy competency (habits of work): it is reported on its "
                     "own and does not count in course grades.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Course
# --------------------------------------------------------------------------------------------


def explain_course(result: GradeResult, student: str, course_id: str) -> str:
    framework, policy = result.framework, result.policy
    course = framework.courses[course_id]
    places = policy.places
    lines = _header(result, student, f"course {course_id} \"{framework.text(course.title)}\"")
    row = _row(result.courses, student_id=student, course=course_id)
    weights = policy.course_grade.weights
    units: list[tuple[str, Mapping[Any, Any] | None]] = []
    excluded = []
    for competency_id in course.competencies:
        competency = framework.competencies.get(competency_id)
        if competency is None:
            continue
        if competency.is_efficacy and not policy.efficacy_in_course_grade:
            excluded.append(competency_id)
            continue
        units.append((competency_id, _row(result.competencies, student_id=student,
                                          competency=competency_id)))
    for target_id in course.targets:
        target = framework.targets.get(target_id)
        if target is None or target.competency_id in course.competencies:
            continue
        units.append((target_id, _row(result.targets, student_id=student, target=target_id)))
    lines.append("Counted in the course grade:")
    ok_units = []
    for unit, unit_row in units:
        weight = weights.get(unit, 1.0)
        shown_weight = f", weight {weight:g}" if weights else ""
        if unit_row is not None and unit_row["status"] == OK:
            ok_units.append((unit, float(unit_row["score"]), float(unit_row["level"]), weight))
            lines.append(f"  {unit}: {_num(unit_row['score'], places)}, level "
                         f"{level_key(unit_row['level'])} {unit_row['label']}{shown_weight}")
        else:
            status = unit_row["status"] if unit_row is not None else "not-assessed"
            lines.append(f"  {unit}: {status} (not counted)")
    if excluded:
        lines.append(f"Not counted (efficacy, reported separately): {', '.join(excluded)}.")
    if ok_units:
        if policy.course_grade.combine == "mean":
            ok_units = [(u, s, lv, 1.0) for u, s, lv, _ in ok_units]
        total_weight = sum(w for *_, w in ok_units)
        combined = sum(s * w for _, s, _, w in ok_units) / total_weight
        terms = " + ".join(f"{_full(s, places)} × {_full(w, 0)}" for _, s, _, w in ok_units)
        lines += ["", f"Combined score ({policy.course_grade.combine.replace('_', ' ')}): "
                      f"({terms}) / {_full(total_weight, 0)} = "
                      f"{_shows_as(combined, places)}"]
        lines += _rule_lines(ok_units, combined, policy)
    if row is None:
        lines.append("Result: the student does not take this course (no evidence names it).")
    elif row["status"] != OK:
        lines.append(_status_line(str(row["status"])))
    else:
        lines.append(f"Course grade: {row['grade']} ({row['rule']}).")
    return "\n".join(lines) + "\n"


def _rule_lines(units: list[tuple[str, float, float, float]], combined: float,
                policy: Policy) -> list[str]:
    course = policy.course_grade
    shown = float(format_decimal(combined, policy.places))
    lines: list[str] = []
    if course.rules:
        lines.append("Rules, in order (the first that holds decides):")
        levels = [lv for _, _, lv, _ in units]
        for rule in course.rules:
            checks = []
            if rule.at_least_level is not None:
                hits = sum(1 for lv in levels if lv >= rule.at_least_level)
                need = (rule.at_least_count if rule.at_least_count is not None
                        else math.ceil((rule.at_least_share or 0.0) * len(levels) - 1e-9))
                checks.append((hits >= need, f"{hits} of {len(levels)} at "
                               f"{level_key(rule.at_least_level)} or above, {need} needed"))
            if rule.none_below is not None:
                below = sum(1 for lv in levels if lv < rule.none_below)
                checks.append((below == 0, f"{below} below {level_key(rule.none_below)}"))
            if rule.min_score is not None:
                checks.append((shown >= rule.min_score,
                               f"score {format_decimal(combined, policy.places)} vs "
                               f"{rule.min_score:g}"))
            holds = all(ok for ok, _ in checks)
            detail = "; ".join(text for _, text in checks) or "no conditions"
            lines.append(f"  {rule.text()} -> {'holds' if holds else 'does not hold'} "
                         f"({detail})")
            if holds:
                break
    elif course.conversion:
        lines.append("Conversion table (from the top; the first row reached decides): "
                     + ", ".join(f"{row.minimum:g}+ {row.grade}" for row in course.conversion))
    return lines


# --------------------------------------------------------------------------------------------
# Rows the reader did not accept
# --------------------------------------------------------------------------------------------


def _reader_rows(result: GradeResult, student: str, target_id: str
                 ) -> tuple[list[Mapping[Any, Any]], list[Mapping[Any, Any]],
                            list[Mapping[Any, Any]]]:
    """The rows of ``student`` the reader did not accept, in file order: (set aside for
    ``target_id``: blank scores, duplicates; rejected for ``target_id``; rejected with no
    target of the framework, which may have been meant for it)."""
    rejects = result.rejects
    if "student_id" not in rejects or not len(rejects):
        return [], [], []
    mine = rejects.loc[(rejects["student_id"].astype("str") == student).to_numpy(dtype=bool)]
    target = mine["target"].astype("str")
    aside = mine["reason"].astype("str").isin(READER_SET_ASIDE).to_numpy(dtype=bool)
    here = (target == target_id).to_numpy(dtype=bool)
    nowhere = (target == "").to_numpy(dtype=bool)

    def records(mask: Any) -> list[Mapping[Any, Any]]:
        return list(mine.loc[mask].to_dict("records"))

    return records(here & aside), records(here & ~aside), records(nowhere & ~aside)


def _reader_row_line(r: Mapping[Any, Any]) -> str:
    """A row the reader did not accept: the cell, what is wrong, the reason code, file:row."""
    cell = f"{r['column']} {shortened(str(r['value']))!r}" if r["column"] else "the row"
    return f"  - {cell}: {r['message']} [{r['reason']}; {r['file']}:{r['row']}]"
