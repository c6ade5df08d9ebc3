"""Roll-ups: target results into competency results, competency results into course grades.

Both are group-by aggregations over whole columns (one row per student × competency or
student × course), worked on `Table`s with numpy alone; the only Python loops run over scales,
courses, grade rules and distinct texts, of which a school has a handful, and over the position
of a row within its group (a handful of targets per competency, of units per course).

Course grades use the course's competencies (efficacy competencies only when the policy says
so) plus any single targets the course covers outside those competencies. A student takes the
courses named in the evidence's ``course`` column (by id or title); a student whose evidence
names no known course takes every course in which they have an academic result.

Sums are added up exactly as pandas' ``groupby(...).sum()``/``.mean()`` did when these tables
were DataFrames, so scores keep their last bit from one release to the next: pandas adds a
group with ``np.add.reduceat`` when the rows come sorted by group and no value is NaN, and with
compensated (Kahan) summation in row order otherwise (`_group_sums`, `_group_means`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from mastery_cli.framework.model import Framework, level_key
from mastery_cli.grading.pipeline import (
    EXCUSED,
    INSUFFICIENT,
    NOT_ASSESSED,
    OK,
    group_index,
    level_values,
)
from mastery_cli.grading.policy import CompetencyRollup, Policy
from mastery_cli.grading.rounding import round_half_up
from mastery_cli.grading.table import Coded, Flags, Table, text_codes

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

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --------------------------------------------------------------------------------------------
# Coded text
# --------------------------------------------------------------------------------------------


class _Groups:
    """Rows grouped by an integer key (``DataFrame.groupby(key, sort=True)``).

    ``monotonic`` is pandas' test for its reduceat path: the group of each row never
    decreases. By default it is read from ``keys``; a caller whose rows stood in another order
    in the DataFrame it replaces says how they stood.
    """

    def __init__(self, keys: Ints, key_count: int, monotonic: bool | None = None) -> None:
        self.row_group, self.keys = group_index(keys, key_count)
        self.sizes = np.bincount(self.row_group, minlength=len(self.keys)).astype(np.int64)
        self.starts = np.cumsum(self.sizes) - self.sizes
        in_order = len(keys) < 2 or bool(np.all(keys[1:] >= keys[:-1]))
        self.monotonic = in_order if monotonic is None else monotonic
        # Rows in group order (None: they are already).
        self.order: Ints | None = (
            None if in_order else np.argsort(self.row_group, kind="stable")
        )

    def __len__(self) -> int:
        return len(self.keys)

    def counts(self, rows: npt.NDArray[np.bool_]) -> Ints:
        """Rows where ``rows`` holds, per group (a count: order does not matter; a weighted
        bincount is exact below 2**53 and faster than selecting the rows first)."""
        return np.bincount(self.row_group, weights=rows, minlength=len(self.keys)).astype(
            np.int64)


def _kahan(columns: Sequence[Floats], groups: _Groups) -> tuple[list[Floats], list[Ints]]:
    """(sum, values counted) per group and column, as pandas' Cython ``group_sum`` and
    ``group_mean`` add: row by row in row order, compensated (Kahan), NaN skipped.

    Vectorised over groups: step ``j`` adds every group's ``j``-th row at once, so the loop runs
    as many times as the largest group has rows, not once per row.
    """
    n = len(groups)
    sums = [np.zeros(n) for _ in columns]
    compensations = [np.zeros(n) for _ in columns]
    seen = [np.zeros(n, dtype=np.int64) for _ in columns]
    active = np.flatnonzero(groups.sizes > 0)
    step = 0
    while len(active):
        rows = groups.starts[active] + step
        if groups.order is not None:
            rows = groups.order[rows]
        for column, total, compensation, counted in zip(
            columns, sums, compensations, seen, strict=True
        ):
            values = column[rows]
            present = ~np.isnan(values)
            at = active[present]
            values = values[present]
            y = values - compensation[at]
            t = total[at] + y
            c = (t - total[at]) - y
            c[np.isnan(c)] = 0.0  # after an infinite value, as pandas does (GH#53606)
            compensation[at] = c
            total[at] = t
            counted[at] += 1
        step += 1
        active = active[groups.sizes[active] > step]
    return sums, seen


def _group_sums(columns: Sequence[Floats], groups: _Groups) -> list[Floats]:
    """Per-group sums of float ``columns`` as ``DataFrame(columns).groupby(key).sum()`` gives
    them (the columns form one block, so one NaN anywhere sends all to Kahan summation)."""
    if groups.monotonic and not any(bool(np.isnan(c).any()) for c in columns):
        if not len(groups):
            return [np.zeros(0) for _ in columns]
        return [np.add.reduceat(c, groups.starts) for c in columns]
    return _kahan(columns, groups)[0]


def _group_means(column: Floats, groups: _Groups) -> Floats:
    """Per-group means of ``column`` (NaN skipped) as ``SeriesGroupBy.mean`` gives them."""
    if groups.monotonic and not bool(np.isnan(column).any()):
        if not len(groups):
            return np.zeros(0)
        return np.add.reduceat(column, groups.starts) / groups.sizes
    (sums,), (seen,) = _kahan([column], groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(seen > 0, sums / seen, np.nan)


def _group_minimum(column: Floats, groups: _Groups) -> Floats:
    """Per-group minimum, NaN skipped (NaN for a group without values)."""
    present = ~np.isnan(column)
    lowest = np.full(len(groups), np.inf)
    np.minimum.at(lowest, groups.row_group[present], column[present])
    return np.where(groups.counts(present) > 0, lowest, np.nan)


def _group_median(column: Floats, groups: _Groups) -> Floats:
    """Per-group median, NaN skipped: the middle value, or the mean of the two middle values
    (as pandas' ``median_linear``: ``(upper + lower) / 2``)."""
    present = np.flatnonzero(~np.isnan(column))
    group = groups.row_group[present]
    values = column[present]
    if not len(values):
        return np.full(len(groups), np.nan)
    order = np.lexsort((values, group))
    values, group = values[order], group[order]
    sizes = np.bincount(group, minlength=len(groups)).astype(np.int64)
    starts = np.cumsum(sizes) - sizes
    has = sizes > 0
    upper = values[np.where(has, starts + sizes // 2, 0)]
    lower = values[np.where(has, starts + np.maximum(sizes // 2 - 1, 0), 0)]
    median = np.where(sizes % 2 == 1, upper, (upper + lower) / 2)
    return np.where(has, median, np.nan)


def _first_rows(keys: Ints, key_count: int) -> Ints:
    """Index of the first row of each key in ``[0, key_count)`` (-1 for a key without rows)."""
    first = np.full(key_count, -1, dtype=np.int64)
    if len(keys) < 2 or bool(np.all(keys[1:] >= keys[:-1])):  # sorted: the starts of runs
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys
        first[keys[starts]] = starts
        return first
    first[:] = len(keys)
    np.minimum.at(first, keys, np.arange(len(keys), dtype=np.int64))
    first[first == len(keys)] = -1
    return first


def _present(elementwise: Callable[..., Floats], values: Floats, *args: Any) -> Floats:
    """``elementwise(values, *args)`` for a function that maps NaN to NaN, worked on the values
    that are not NaN only: rounding sends each NaN through Python (a competency without a
    score is common)."""
    present = ~np.isnan(values)
    if present.all():
        return elementwise(values, *args)
    out = np.full(len(values), np.nan)
    out[present] = elementwise(values[present], *args)
    return out


def _texts_by_key(keys: Ints, render: Callable[[int], str]) -> Coded:
    """A text column rendered once per distinct key (a handful) and gathered to the rows."""
    key_count = int(keys.max(initial=-1)) + 1
    codes, distinct = group_index(keys, key_count)
    return Coded(codes, [render(int(k)) for k in distinct.tolist()])


def _rollup_groups(
    competency_texts: list[str], policy: Policy
) -> tuple[list[CompetencyRollup], Ints]:
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


# --------------------------------------------------------------------------------------------
# Competencies
# --------------------------------------------------------------------------------------------


class _Scores:
    """Group scores by roll-up method, each computed once however many roll-ups share it."""

    def __init__(self, groups: _Groups, ok: npt.NDArray[np.bool_], score_ok: Floats,
                 targets: Coded) -> None:
        self.groups, self.ok, self.score_ok, self.targets = groups, ok, score_ok, targets
        self._done: dict[object, Floats] = {}

    def of(self, rollup: CompetencyRollup) -> Floats:
        """The score of every student × competency group as ``rollup`` computes it."""
        key: object = (rollup.method if rollup.method in ("minimum", "median") else "mean")
        if rollup.method == "weighted_mean":
            key = ("weighted", tuple(sorted(rollup.weights.items())))
        if key not in self._done:
            self._done[key] = self._compute(rollup)
        return self._done[key]

    def _compute(self, rollup: CompetencyRollup) -> Floats:
        if rollup.method == "minimum":
            return _group_minimum(self.score_ok, self.groups)
        if rollup.method == "median":
            return _group_median(self.score_ok, self.groups)
        if rollup.method != "weighted_mean":
            return _group_means(self.score_ok, self.groups)
        weight = (  # code -1, a missing target (""), picks the last entry
            np.array([rollup.weights.get(t, 1.0) for t in [*self.targets.texts, ""]],
                     dtype=np.float64)[self.targets.codes]
            if rollup.weights
            else np.ones(len(self.ok))
        )
        weighted, weight_ok = _group_sums(
            [np.where(self.ok, self.score_ok * weight, 0.0), np.where(self.ok, weight, 0.0)],
            self.groups,
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(weighted / weight_ok, dtype=np.float64)


def competency_table(targets: Table, framework: Framework, policy: Policy) -> Table:
    """One row per student × competency with any target result.

    Each competency rolls up as its override says (else as the policy's ``competency_rollup``):
    every column is computed once per distinct roll-up and each group takes its own.
    """
    t = targets
    status = t.coded("status")
    ok = status.equals_text(OK)
    excused = status.equals_text(EXCUSED)
    score_ok = np.where(ok, np.asarray(t.array("score"), dtype=np.float64), np.nan)
    student_codes, student_texts = text_codes(t.coded("student_id"))
    competency_codes, competency_texts = text_codes(t.coded("competency"))
    n_competencies = max(len(competency_texts), 1)
    specs, spec_of_competency = _rollup_groups(competency_texts, policy)
    # One integer key per student × competency, in (student id, competency id) text order.
    groups = _Groups(student_codes * n_competencies + competency_codes,
                     len(student_texts) * n_competencies)
    mastered_flags = t["mastered"]
    target_mastered = (
        mastered_flags.true() if isinstance(mastered_flags, Flags)
        else np.asarray(mastered_flags, dtype=bool)
    )
    assessed = groups.counts(ok)
    excused_count = groups.counts(excused)
    mastered_count = groups.counts(ok & target_mastered)
    keys = groups.keys
    group_student = keys // n_competencies
    group_competency = keys % n_competencies
    group_spec = spec_of_competency[group_competency]
    scores = _Scores(groups, ok, score_ok, t.coded("target"))
    score = np.full(len(keys), np.nan)
    for index, rollup in enumerate(specs):
        mask = group_spec == index
        if mask.any():
            score[mask] = scores.of(rollup)[mask]
    min_targets = np.array([r.min_targets for r in specs], dtype=np.int64)[group_spec]

    competencies = framework.competencies
    total = np.array(
        [len(competencies[c].targets) if c in competencies else 0 for c in competency_texts]
        or [0],
        dtype=np.int64,
    )[group_competency]
    status_code = np.where(
        assessed >= min_targets,
        0,
        np.where(groups.sizes == excused_count, 1, 2),
    )  # index into (OK, EXCUSED, INSUFFICIENT)
    ok_rows = status_code == 0
    score = np.where(ok_rows, score, np.nan)

    level = np.full(len(keys), np.nan)
    label_code = np.zeros(len(keys), dtype=np.int64)
    label_texts = [""]
    at_mastery = np.zeros(len(keys), dtype=bool)
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
        scale_levels = _present(level_values, score[mask], scale,
                                policy.cut_points_for(scale.id), policy.places)
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
    rule_key = (((group_spec * 3 + status_code) * width + assessed) * width
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
    return Table(
        {
            "student_id": Coded(group_student, student_texts),
            "student_name": _first_names(t, student_codes, len(student_texts), group_student),
            "competency": Coded(group_competency, competency_texts),
            "kind": Coded(group_competency, kinds),
            "score": score,
            "level": np.where(ok_rows, level, np.nan),
            "label": Coded(np.where(ok_rows, label_code, 0), label_texts),
            "mastered": Flags(np.asarray(mastered, dtype=bool), ok_rows),
            "status": Coded(status_code.astype(np.int64), [OK, EXCUSED, INSUFFICIENT]),
            "targets_assessed": assessed,
            "targets_mastered": mastered_count,
            "targets_total": total,
            "rule": _texts_by_key(rule_key, render_rule),
            "scale": Coded(group_scale, scale_ids),
        },
        len(keys),
    )


def _first_names(t: Table, student_codes: Ints, n_students: int, rows: Ints) -> Coded:
    """The student name column for result rows of students ``rows``: each student's first
    non-empty name in the target table.

    Worked on the column's own codes: its texts need not be sorted (a name per student, in
    student order, is usual), and names are only carried over, never grouped or ordered.
    """
    names = t.coded("student_name")
    texts = list(names.texts)
    codes = np.asarray(names.codes, dtype=np.int64)
    if "" in texts or (len(codes) and int(codes.min()) < 0):
        named = np.flatnonzero(np.array([bool(n) for n in texts] + [False])[codes])
        first_named = _first_rows(student_codes[named], n_students)
        first = np.full(n_students, -1, dtype=np.int64)
        first[first_named >= 0] = named[first_named[first_named >= 0]]
    else:  # every row has a name (the usual case)
        first = _first_rows(student_codes, n_students)
    name_of = np.full(n_students, len(texts), dtype=np.int64)  # "" when no name
    has = first >= 0
    name_of[has] = codes[first[has]]
    return Coded(name_of[rows], [*texts, ""])


# --------------------------------------------------------------------------------------------
# Courses
# --------------------------------------------------------------------------------------------


def _membership(framework: Framework, policy: Policy) -> list[tuple[str, str, float]]:
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
            rows.append((str(course.id), competency_id, float(weights.get(competency_id, 1.0))))
        for target_id in course.targets:
            target = framework.targets.get(target_id)
            if target is None or target.competency_id in course.competencies:
                continue
            if framework.competency_of(target).is_efficacy and not (
                policy.efficacy_in_course_grade
            ):
                continue
            rows.append((str(course.id), target_id, float(weights.get(target_id, 1.0))))
    return rows


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


def _ranges(starts: Ints, counts: Ints) -> tuple[Ints, Ints]:
    """For runs ``[starts[i], starts[i] + counts[i])``: (run of each position, position)."""
    run = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    within = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(counts) - counts, counts)
    return run, starts[run] + within


def _all_texts(*columns: Coded) -> tuple[list[str], list[Ints]]:
    """One sorted text universe for several text columns, and each column's codes in it."""
    coded = [text_codes(column) for column in columns]
    first = coded[0][1]
    if all(own == first for _, own in coded[1:]):  # the usual case: the same ids throughout
        return first, [codes for codes, _ in coded]
    texts = sorted(set().union(*(t for _, t in coded)))
    position = {text: i for i, text in enumerate(texts)}
    return texts, [
        np.array([position[t] for t in own] or [0], dtype=np.int64)[codes] for codes, own in coded
    ]


def _positions(texts: Sequence[str], universe: list[str]) -> Ints:
    """The position of each of ``texts`` in ``universe`` (-1 for a text not there)."""
    if len(texts) == len(universe) + 1 and texts[-1] == "" and list(texts[:-1]) == universe:
        # The evidence ids are the results' ids (plus "" for a missing one): no lookups.
        return np.r_[np.arange(len(universe), dtype=np.int64),
                     universe.index("") if "" in universe else -1]
    position = {text: i for i, text in enumerate(universe)}
    return np.array([position.get(t, -1) for t in texts] or [-1], dtype=np.int64)


def _run_starts(*codes: npt.NDArray[np.integer[Any]]) -> Ints:
    """Rows whose codes differ from the row before (the first row of each run)."""
    n = len(codes[0])
    change = np.zeros(n, dtype=bool)
    if n:
        change[0] = True
        for column in codes:
            change[1:] |= column[1:] != column[:-1]
    return np.flatnonzero(change)


def _enrolled_pairs(
    run_students: Ints,
    run_course_codes: Ints,
    course_texts: Sequence[str],
    n_students: int,
    course_ids: list[str],
    unit_ok_rows: tuple[Ints, Ints],
    member_unit: Ints,
    member_course: Ints,
    framework: Framework,
) -> tuple[Ints, bool]:
    """(keys ``student * len(course_ids) + course`` of the courses each student takes, in key
    order; whether the pairs came in key order): the courses the evidence names, or else
    every course with a unit the student has a result in. The evidence comes as its runs of
    one student and one course text (`_run_starts`): the student and the course code of each.

    The tables used to be merged, giving the pairs in order of first appearance (named pairs
    in evidence order, then the others in result order, each result's courses in framework
    order), and pandas then summed each pair's rows with ``np.add.reduceat`` when that order
    was key order and with Kahan summation otherwise. Only that choice reaches the scores (a
    pair's own rows keep their order either way), so it is all this function reports.
    """
    names = _course_names(framework)
    n_courses = max(len(course_ids), 1)
    index = {c: i for i, c in enumerate(course_ids)}
    # str.strip trims the same characters as Arrow's utf8_trim_whitespace did.
    named_ids = [names.get(t.strip().casefold()) for t in [*course_texts, ""]]
    # -2: names no course; -1: a course whose grade uses no unit (it gets no row).
    course_of_text = np.array(
        [-2 if c is None else index.get(c, -1) for c in named_ids], dtype=np.int64
    )
    run_courses = course_of_text[run_course_codes]
    has_named = np.zeros(n_students, dtype=bool)
    has_named[run_students[run_courses > -2]] = True
    graded = run_courses >= 0
    named_keys = run_students[graded] * n_courses + run_courses[graded]
    in_evidence = np.zeros(n_students, dtype=bool)
    in_evidence[run_students] = True
    unnamed = in_evidence & ~has_named
    students_ok, units_ok = unit_ok_rows
    chosen = unnamed[students_ok]
    # Each chosen result -> the courses using its unit, in framework order.
    n_units = int(max(units_ok.max(initial=-1), member_unit.max(initial=-1))) + 1
    by_unit = np.argsort(member_unit, kind="stable")
    per_unit = np.bincount(member_unit, minlength=n_units).astype(np.int64)
    first_of_unit = np.cumsum(per_unit) - per_unit
    result_units = units_ok[chosen]
    result_of, member_at = _ranges(first_of_unit[result_units], per_unit[result_units])
    covered_keys = (students_ok[chosen][result_of] * n_courses
                    + member_course[by_unit[member_at]])
    sequence = np.concatenate([named_keys, covered_keys])
    key_count = n_students * n_courses
    if key_count <= max(4 * len(sequence), 1 << 20):
        first = _first_rows(sequence, key_count)
        pairs = np.flatnonzero(first >= 0).astype(np.int64)
        first_seen = first[pairs]
    else:
        distinct, first_index = np.unique(sequence, return_index=True)
        pairs, first_seen = np.asarray(distinct, np.int64), np.asarray(first_index, np.int64)
    return pairs, bool(np.all(first_seen[1:] > first_seen[:-1]))


def _result_rows(unit_keys: Ints, key_count: int, wanted: Ints) -> tuple[Ints, Ints]:
    """For each wanted key, the rows of ``unit_keys`` with that key in row order, or one -1
    when there is none: (wanted index of each output position, row or -1)."""
    if key_count <= max(8 * len(unit_keys), 1 << 20):
        per_key = np.bincount(unit_keys, minlength=key_count)
        if per_key.max(initial=0) <= 1:  # one result per student × unit: a lookup table
            row_at = np.full(key_count + 1, -1, dtype=np.int64)
            row_at[unit_keys] = np.arange(len(unit_keys), dtype=np.int64)
            return np.arange(len(wanted), dtype=np.int64), row_at[wanted]
    unit_order = np.argsort(unit_keys, kind="stable")
    sorted_keys = unit_keys[unit_order]
    left = np.searchsorted(sorted_keys, wanted, side="left")
    found = np.searchsorted(sorted_keys, wanted, side="right") - left
    row_of, at = _ranges(left, np.maximum(found, 1))
    seen = found[row_of] > 0
    result = (
        np.where(seen, unit_order[np.minimum(at, len(unit_order) - 1)], -1)
        if len(unit_order)
        else np.full(len(row_of), -1, dtype=np.int64)
    )
    return row_of, np.asarray(result, dtype=np.int64)


def course_table(
    evidence: Table,
    targets: Table,
    competencies: Table,
    framework: Framework,
    policy: Policy,
) -> Table:
    """One row per student × course the student takes.

    Worked on integer codes: (student, course) pairs, each expanded to the course's units in
    the order the framework lists them, each unit joined to the student's result for it. The
    sums run over the rows of a pair in that order, as a merge of the tables would give them.
    """
    membership = _membership(framework, policy)
    member_texts = [unit for _, unit, _ in membership]
    # Student universe: evidence ids (read from their distinct texts), results' ids.
    students, (competency_students, target_students) = _all_texts(
        competencies.coded("student_id"), targets.coded("student_id")
    )
    evidence_students = evidence.coded("student_id")
    evidence_courses = evidence.coded("course")
    # A million evidence rows come in a few thousand runs of one student and one course text;
    # which pairs exist, and in which order they first appear, is read from the runs alone.
    runs = _run_starts(evidence_students.codes, evidence_courses.codes)
    run_student_codes = np.asarray(evidence_students.codes, dtype=np.int64)[runs]
    run_course_codes = np.asarray(evidence_courses.codes, dtype=np.int64)[runs]
    evidence_texts = [*evidence_students.texts, ""]  # code -1, a missing id, picks the last
    student_of_code = _positions(evidence_texts, students)
    if (student_of_code[run_student_codes] < 0).any():
        # Students with evidence and no result: the universe takes in their ids too.
        used = np.bincount(run_student_codes + 1, minlength=len(evidence_texts) + 1)
        extra = {evidence_texts[code - 1] for code in np.flatnonzero(used).tolist()}
        widened = sorted(set(students) | extra)
        remap = _positions(students, widened)
        competency_students = remap[competency_students]
        target_students = remap[target_students]
        students = widened
        student_of_code = _positions(evidence_texts, students)
    run_students = student_of_code[run_student_codes]
    # Units: the distinct competency and target ids the course grades use. A result row of
    # any other unit can never be joined, so only member rows are kept (in their order).
    units = sorted(set(member_texts))
    unit_index = {unit: i for i, unit in enumerate(units)}
    member_unit = np.array([unit_index[u] for u in member_texts], dtype=np.int64)
    course_ids = sorted({course for course, _, _ in membership})
    course_index = {c: i for i, c in enumerate(course_ids)}
    member_course = np.array([course_index[c] for c, _, _ in membership], dtype=np.int64)
    member_weight = np.array([w for _, _, w in membership], dtype=np.float64)
    n_students, n_units, n_courses = len(students), max(len(units), 1), max(len(course_ids), 1)

    # Unit results: competencies, then targets (the order a concatenation gives).
    parts = []
    for results, column, result_students in (
        (competencies, "competency", competency_students),
        (targets, "target", target_students),
    ):
        ids = results.coded(column)
        unit_of_code = np.array([unit_index.get(t, -1) for t in [*ids.texts, ""]],
                                dtype=np.int64)  # code -1, a missing id, picks the last
        result_unit = unit_of_code[ids.codes]
        kept = np.flatnonzero(result_unit >= 0)
        parts.append((
            result_students[kept],
            result_unit[kept],
            np.asarray(results.array("score"), dtype=np.float64)[kept],
            np.asarray(results.array("level"), dtype=np.float64)[kept],
            results.coded("status").take(kept).equals_text(OK),
        ))
    unit_student, unit_unit, unit_score, unit_level, unit_ok = (
        np.concatenate([part[i] for part in parts]) for i in range(5)
    )
    pairs, in_key_order = _enrolled_pairs(
        run_students, run_course_codes, evidence_courses.texts, n_students, course_ids,
        (unit_student[unit_ok], unit_unit[unit_ok]),
        member_unit, member_course, framework,
    )

    # Each pair -> the course's units (framework order) -> the student's results for them.
    by_course = np.argsort(member_course, kind="stable")
    members_per_course = np.bincount(member_course, minlength=n_courses).astype(np.int64)
    first_member = np.cumsum(members_per_course) - members_per_course
    pair_course = pairs % n_courses
    pair_of_row, member_at = _ranges(first_member[pair_course], members_per_course[pair_course])
    member = by_course[member_at]
    wanted = (pairs[pair_of_row] // n_courses) * n_units + member_unit[member]
    row_of, result = _result_rows(unit_student * n_units + unit_unit,
                                  n_students * n_units, wanted)
    seen = result >= 0
    at = np.maximum(result, 0)
    ok = seen & unit_ok[at] if len(unit_ok) else seen
    level = np.where(ok, unit_level[at], np.nan) if len(unit_level) else (
        np.full(len(result), np.nan))
    score = np.where(seen, unit_score[at], np.nan) if len(unit_score) else (
        np.full(len(result), np.nan))
    weight = member_weight[member[row_of]]
    if policy.course_grade.combine == "mean":
        weight = np.ones_like(weight)

    # Rows come pair by pair, pairs in key order: each pair's rows are one run.
    row_pair = pair_of_row[row_of]
    groups = _Groups(row_pair, len(pairs), monotonic=in_key_order)
    weighted, weight_sum = _group_sums(
        [np.where(ok, score * weight, 0.0), np.where(ok, weight, 0.0)], groups
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        combined = np.asarray(weighted / weight_sum, dtype=np.float64)
    assessed = groups.counts(ok)
    seen_count = groups.counts(seen)
    group_student = pairs // n_courses
    group_course = pairs % n_courses
    min_competencies = policy.course_grade.min_competencies
    status_texts = [OK, INSUFFICIENT, NOT_ASSESSED, "no-grade"]
    status = np.where(assessed >= min_competencies, 0, np.where(seen_count > 0, 1, 2))
    has_grade = status == 0
    combined = np.where(has_grade, combined, np.nan)
    shown = _present(round_half_up, combined, policy.places)
    rule_counts: dict[str, Ints] = {}
    for index, rule in enumerate(policy.course_grade.rules):
        if rule.at_least_level is not None:
            rule_counts[f"at_least_{index}"] = groups.counts(ok & (level >= rule.at_least_level))
        if rule.none_below is not None:
            rule_counts[f"below_{index}"] = groups.counts(ok & (level < rule.none_below))
    grade_code, grade_texts, rule_code, rule_texts = _decide(
        rule_counts, len(pairs), shown, assessed, framework, policy)
    grade_texts = [*grade_texts, ""]
    grade_code = np.where(has_grade, grade_code, len(grade_texts) - 1)
    rule_texts = [*rule_texts, f"fewer than {min_competencies} competencies with a result"]
    rule_code = np.where(has_grade, rule_code, len(rule_texts) - 1)
    no_grade = np.array([g == "" for g in grade_texts], dtype=bool)[grade_code]
    status = np.where(has_grade & no_grade, 3, status)
    credits = np.array([framework.courses[c].credits for c in course_ids] or [np.nan],
                       dtype=np.float64)[group_course]
    # Names: each student's first row in the target table ("" without one), carried over in
    # the column's own codes (-1, a missing name, picks the "" added last).
    names = targets.coded("student_name")
    name_texts = [*names.texts, ""]
    first_row = _first_rows(target_students, n_students)
    name_of = np.full(n_students, len(name_texts) - 1, dtype=np.int64)
    has_row = first_row >= 0
    name_of[has_row] = np.where(names.codes[first_row[has_row]] < 0, len(name_texts) - 1,
                                names.codes[first_row[has_row]])
    return Table(
        {
            "student_id": Coded(group_student, students),
            "student_name": Coded(name_of[group_student], name_texts),
            "course": Coded(group_course, course_ids),
            "grade": Coded(np.asarray(grade_code, dtype=np.int64), grade_texts),
            "score": combined,
            "status": Coded(status.astype(np.int64), status_texts),
            "rule": Coded(np.asarray(rule_code, dtype=np.int64), rule_texts),
            "credits": credits,
            "units_assessed": assessed,
            "units_total": groups.sizes,
        },
        len(pairs),
    )


def _first_match(conditions: list[npt.NDArray[np.bool_]], n: int) -> Ints:
    """Index of the first condition that holds per row (``len(conditions)`` for none), as
    ``np.select`` picks."""
    choice = np.full(n, len(conditions), dtype=np.int64)
    for index in range(len(conditions) - 1, -1, -1):
        choice[conditions[index]] = index
    return choice


def _decide(
    counts: dict[str, Ints],
    n: int,
    shown: Floats,
    assessed: Ints,
    framework: Framework,
    policy: Policy,
) -> tuple[Ints, list[str], Ints, list[str]]:
    """(grade code, grade texts, rule code, rule texts): the grade of each student × course and
    the rule or conversion row that decided it."""
    course = policy.course_grade
    if course.rules:
        conditions = []
        for index, rule in enumerate(course.rules):
            holds = np.ones(n, dtype=bool)
            if rule.at_least_level is not None:
                hits = counts[f"at_least_{index}"]
                if rule.at_least_count is not None:
                    holds &= hits >= rule.at_least_count
                else:
                    share = rule.at_least_share or 0.0
                    with np.errstate(invalid="ignore", divide="ignore"):
                        holds &= hits >= np.ceil(share * assessed - 1e-9)
            if rule.none_below is not None:
                holds &= counts[f"below_{index}"] == 0
            if rule.min_score is not None:
                holds &= shown >= rule.min_score
            conditions.append(holds)
        choice = _first_match(conditions, n)
        return (choice, [r.grade for r in course.rules] + [""],
                choice, ["rule " + r.text() for r in course.rules] + ["no rule matched"])
    if course.conversion:
        choice = _first_match([shown >= row.minimum for row in course.conversion], n)
        return (choice, [row.grade for row in course.conversion] + [""],
                choice, [row.text() for row in course.conversion]
                + ["below every row of the conversion table"])
    # No table and no rules: the level the combined score reaches on the default scale.
    scale = framework.default_scale
    if scale is None:
        return np.zeros(n, dtype=np.int64), [""], np.zeros(n, dtype=np.int64), [""]
    levels = _present(level_values, shown, scale, policy.cut_points_for(scale.id),
                      policy.places)
    labels = {lv.value: framework.text(lv.label) for lv in scale.levels}
    words = course.combine.replace("_", " ")
    distinct = sorted(set(levels[~np.isnan(levels)].tolist()))
    at = np.searchsorted(np.asarray(distinct, dtype=np.float64), levels)
    code = np.where(np.isnan(levels), len(distinct), at).astype(np.int64)
    grades = [level_key(v) for v in distinct] + [""]
    texts = [f"{words} read on the scale: level {level_key(v)} ({labels.get(v, '')})"
             for v in distinct] + [""]
    return code, grades, code, texts
