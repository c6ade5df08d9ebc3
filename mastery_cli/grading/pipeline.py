"""From accepted evidence to target results: filters, order, methods, minimum evidence, levels.

The work is a handful of whole-column operations, never a Python loop per student:

1. every row gets a reason it is set aside, or none (excused, missing, type filters, date
   window; the first reason that applies wins, in that order); then the rows left that are
   one piece of work scored by several raters become one row (`_resolve_ratings`);
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

Text is worked on as integer codes (`table.text_codes`): the reader's text columns are `Coded`
with sorted texts, so a code orders and groups exactly like its text, and students and targets
are never hashed or compared as strings per row. Result tables carry their text columns coded
too, sorted by student id, then ids.

The engine works on `table.Table`s (numpy arrays and coded text) and never imports pandas:
importing pandas takes longer than grading a million rows. `GradeResult` turns its tables into
DataFrames only when a caller asks for one (reports, grades.json, ``mastery explain``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mastery_cli.diagnostics import Diagnostic
from mastery_cli.framework.model import Framework, Scale
from mastery_cli.grading import methods
from mastery_cli.grading.distinct import sorted_distinct
from mastery_cli.grading.policy import EvidenceRules, Policy, RaterRule, method_label
from mastery_cli.grading.rounding import round_half_up
from mastery_cli.grading.table import (
    Coded,
    Flags,
    Table,
    coded,
    compact_text_codes,
    first_rows,
    gather,
    text_codes,
)

if TYPE_CHECKING:
    import pandas as pd

    from mastery_cli.grading.ingest import IngestConfig


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
    "outside-unapproved": "learning outside school that no one has approved yet (approved_by "
                          "and approved_on); it counts once approved",
    "before-window": "dated before the grading window",
    "after-window": "dated after the grading window",
    "another-rater": "another rating of the same piece of work: the piece counts once, "
                     "with its ratings resolved by the policy's 'raters' rule",
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
    "outside-unapproved": "approved_by",
    "before-window": "date",
    "after-window": "date",
    "another-rater": "rater",
}

#: The code of each set-aside reason in ``reason`` columns (0: used).
REASON_CODE = {reason: code for code, reason in enumerate(SET_ASIDE_REASONS, start=1)}

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
#: Columns the reader's rejects may carry besides `REJECT_COLUMNS` (not written to rejects.csv):
#: whose evidence each row was, "" when the row does not say (see `ingest.EvidenceSet`).
REJECT_OWNER_COLUMNS = ["student_id", "target"]

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
class GradeTables:
    """The results as `Table`s (see `GradeResult`)."""

    targets: Table
    competencies: Table
    courses: Table
    progress: Table
    evidence: Table
    rejects: Table
    set_aside: Table


@dataclass
class GradeResult:
    """Everything ``mastery grade`` computed.

    ``tables`` holds the results as light tables (what the CSV writer reads). The same results
    are offered as DataFrames, made on first use: ``targets``, ``competencies``, ``courses``
    and ``progress`` are sorted by student id, then ids. ``evidence`` is the accepted evidence
    with ``used``, ``reason``, ``competency`` and ``order`` (0-based position in evidence order
    within student × target; -1 if not used); its ``score`` is the score that counts, and
    ``rating`` the row's own (they differ on the row that carries a piece of work scored by
    several raters: see `_resolve_ratings`). ``rejects`` holds rows the reader rejected (with
    ``student_id`` and ``target``, `REJECT_OWNER_COLUMNS`, when the reader said whose they
    were); ``set_aside`` the rows the policy set aside, in the same columns (file, row, column,
    value, reason, message).
    """

    framework: Framework
    policy: Policy
    tables: GradeTables
    counts: GradeCounts
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @cached_property
    def targets(self) -> pd.DataFrame:
        return self.tables.targets.to_pandas()

    @cached_property
    def competencies(self) -> pd.DataFrame:
        return self.tables.competencies.to_pandas()

    @cached_property
    def courses(self) -> pd.DataFrame:
        return self.tables.courses.to_pandas()

    @cached_property
    def progress(self) -> pd.DataFrame:
        return self.tables.progress.to_pandas()

    @cached_property
    def evidence(self) -> pd.DataFrame:
        return self.tables.evidence.to_pandas()

    @cached_property
    def rejects(self) -> pd.DataFrame:
        return self.tables.rejects.to_pandas()

    @cached_property
    def set_aside(self) -> pd.DataFrame:
        return self.tables.set_aside.to_pandas()


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
    shown_as: Mapping[str, str] | None = None,
) -> GradeResult:
    """Read gradebook ``files`` and grade them with ``policy``.

    Raises MasteryError when the files cannot be read at all; row-level problems end up in
    ``rejects``. ``only_student`` grades one student's evidence and keeps the rejects of that
    student's rows (for ``mastery explain``).
    ``outcome_map`` (e.g. from a Canvas outcomes CSV) adds export names -> target ids to the
    policy's ``input.outcome_map``; the policy wins where both name the same outcome.
    (`mastery grade` runs `engine.run.grade_run`, which writes its files batch by batch; this
    is the whole result in memory, for explain, reports and Python.)
    """
    from mastery_cli.grading.ingest import read_evidence

    step = on_step or (lambda name: None)
    step("read")
    config = ingest_config(policy, input_format=input_format, keep_duplicates=keep_duplicates,
                           outcome_map=outcome_map, shown_as=shown_as)
    evidence = read_evidence(list(files), framework, config)
    table = evidence.table
    rejects = evidence.reject_table
    if evidence.reject_owners is not None:
        rejects = rejects.with_columns(**{name: evidence.reject_owners[name]
                                          for name in REJECT_OWNER_COLUMNS})
    # On every row read, before one student's are picked: a type is unused by the files.
    diagnostics = [*evidence.diagnostics, *unused_type_warnings(policy.evidence, table)]
    if only_student is not None:
        table = table.take(np.flatnonzero(table.coded("student_id").equals_text(only_student)))
        if "student_id" in rejects:
            rejects = rejects.take(np.flatnonzero(
                rejects.coded("student_id").equals_text(only_student)))
    return grade_frame(
        table,
        framework,
        policy,
        headers={f.file: f.headers for f in evidence.files if f.headers},
        rejects=rejects,
        rows_read=evidence.rows_read if only_student is None else None,
        diagnostics=diagnostics,
        on_step=step,
    )


def ingest_config(policy: Policy, *, input_format: str | None = None,
                  keep_duplicates: bool = False, outcome_map: Mapping[str, str] | None = None,
                  shown_as: Mapping[str, str] | None = None) -> IngestConfig:
    """How to read the gradebook files: the policy's ``input`` settings and the command
    line's (``input_format`` None: the policy's, else detected)."""
    from mastery_cli.grading.ingest import IngestConfig

    return IngestConfig(
        input_format=input_format or policy.input.format or "auto",
        columns=dict(policy.input.columns),
        date_format=policy.input.date_format,
        missing="ignore" if policy.missing_score is None else policy.missing_score,
        keep_duplicates=keep_duplicates,
        outcome_map=merged_outcome_map(policy.input.outcome_map, outcome_map or {}),
        decimal=policy.input.decimal,
        shown_as=dict(shown_as or {}),
    )


UNUSED_TYPE = "unused-evidence-type"


def unused_type_warnings(rules: EvidenceRules, table: Table) -> list[Diagnostic]:
    """A warning, at its place in the policy file, for each evidence type the policy counts,
    excludes or weighs that no row has (types compare in lower case): ``exclude_types:
    [practise]`` over rows of type ``practice`` would otherwise count the practice, silently.
    A known type (``formative``) that this export simply lacks is a note, not a warning: one
    policy serves many exports, and a did-you-mean to another real type would mislead.
    Looks at the distinct types only."""
    if not rules.named_types or not len(table):
        return []
    from mastery_cli.diagnostics import Diagnostic, Severity
    from mastery_cli.grading.policy import KNOWN_EVIDENCE_TYPES, TYPE_SETTINGS
    from mastery_cli.validation.rules import did_you_mean

    column = table.coded("type")
    texts = list(column.texts)
    per_code = np.bincount(np.asarray(column.codes, dtype=np.int64) + 1,
                           minlength=len(texts) + 1)  # code -1 (no value) counts at 0
    present = sorted({texts[i - 1] for i in np.flatnonzero(per_code).tolist() if i} - {""})
    listed = ", ".join(present[:12]) + (", ..." if len(present) > 12 else "")
    problems = []
    for named in rules.named_types:
        if named.type in present:
            continue
        known = f"types in the files: {listed}" if present else "no row of the files has a type"
        standard = named.type in KNOWN_EVIDENCE_TYPES
        suggestion = None if standard else did_you_mean(named.type, present)
        problems.append(Diagnostic(
            named.path, named.line, named.column, UNUSED_TYPE,
            f"the policy {TYPE_SETTINGS[named.setting]} evidence type '{named.written}', but no "
            "row of the files has that type",
            Severity.INFO if standard else Severity.WARNING,
            f"{suggestion} ({known})" if suggestion else known,
            named.pointer,
        ))
    return problems


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
    frame: Table | pd.DataFrame,
    framework: Framework,
    policy: Policy,
    *,
    rejects: Table | pd.DataFrame | None = None,
    rows_read: int | None = None,
    diagnostics: list[Diagnostic] | None = None,
    on_step: StepCallback | None = None,
    headers: Mapping[str, Mapping[str, str]] | None = None,
) -> GradeResult:
    """Grade an evidence table (the ``EvidenceSet.table`` contract; a DataFrame of the
    ``EvidenceSet.frame`` contract is accepted too) with ``policy``."""
    from mastery_cli.grading.progress import progress_table
    from mastery_cli.grading.rollup import competency_table, course_table

    step = on_step or (lambda name: None)
    if not isinstance(frame, Table):
        frame = Table.from_pandas(frame)
    if rejects is None:
        rejects = _empty_rejects()
    elif not isinstance(rejects, Table):
        rejects = Table.from_pandas(rejects)
    rejects = rejects.select([*REJECT_COLUMNS,
                              *(name for name in REJECT_OWNER_COLUMNS if name in rejects)])
    step("grade")
    evidence = _prepare(frame, framework, policy)
    diagnostics = [*(diagnostics or []), *_moderator_warnings(evidence, policy)]
    # Which rows count is settled now: the rows not used are final before any result is.
    set_aside = _set_aside_rows(evidence, headers or {})
    targets, evidence = _target_results(evidence, framework, policy)
    step("roll up")
    competencies = competency_table(targets, framework, policy)
    courses = course_table(evidence, targets, competencies, framework, policy)
    progress = progress_table(targets, framework, policy)
    used = int(evidence.array("used").sum())
    reject_reasons = rejects.coded("reason")
    reader_aside = sum(int(reject_reasons.equals_text(r).sum()) for r in READER_SET_ASIDE)
    read = rows_read if rows_read is not None else len(frame) + len(rejects)
    counts = GradeCounts(
        rows_read=read,
        used=used,
        set_aside=len(evidence) - used + reader_aside,
        rejected=len(rejects) - reader_aside,
        duplicates_dropped=int(reject_reasons.equals_text("duplicate-row").sum()),
    )
    return GradeResult(
        framework=framework,
        policy=policy,
        tables=GradeTables(
            targets=targets,
            competencies=competencies,
            courses=courses,
            progress=progress,
            evidence=evidence,
            rejects=rejects,
            set_aside=set_aside,
        ),
        counts=counts,
        diagnostics=list(diagnostics or []),
    )


# --------------------------------------------------------------------------------------------
# Step 1: what counts
# --------------------------------------------------------------------------------------------


def _empty_rejects() -> Table:
    return Table({c: np.zeros(0, dtype=np.int64) if c == "row" else np.zeros(0, dtype=object)
                  for c in REJECT_COLUMNS}, 0)


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


def _prepare(frame: Table, framework: Framework, policy: Policy) -> Table:
    """The evidence with ``reason`` (why set aside, "" when used), ``used``, ``competency``,
    ``weight`` and ``rating`` (the row's own score; ``score`` is the score that counts, which
    differs from it only on a piece of work scored by several raters: see `_resolve_ratings`).

    Every test is made once per distinct text and read back through the column's codes (a
    lookup table with one more entry, for code -1: a missing value, read as ""), so a million
    rows cost a few one-byte gathers, not a pass per condition over wide arrays.
    """
    ev = frame
    n = len(ev)
    status = ev.coded("status")
    score = np.asarray(ev.array("score"), dtype=np.float64)
    if policy.missing_score is not None:
        # Missing work counts as a score: it becomes ordinary scored evidence.
        is_missing = status.equals_text("missing")
        score = score.copy()
        score[is_missing] = policy.missing_score
        texts = list(status.texts)
        if "scored" not in texts:
            texts.append("scored")
        status = coded(texts, np.where(is_missing, texts.index("scored"), status.codes))
        ev = ev.with_columns(status=status, score=score)
    info = _target_info(framework)
    target = ev.coded("target")
    competency = Coded(target.codes, [info.get(t, ("", None))[0] for t in target.texts])

    rules = policy.evidence
    type_column = ev.coded("type")
    type_texts = [*type_column.texts, ""]  # the last one answers code -1

    # Reason codes: 0 = used, k = the k-th reason of SET_ASIDE_REASONS. The first reason
    # that holds wins, so they are written from the last to the first.
    reason_code = np.zeros(n, dtype=np.int8)
    outside = _outside_rows(ev, policy)
    _window_reasons(reason_code, ev, rules, policy, outside)
    if outside is not None and policy.outside_evidence is not None \
            and policy.outside_evidence.requires_approval:
        reason_code[outside & ~_approved_rows(ev)] = REASON_CODE["outside-unapproved"]
    type_reason = np.array([_type_reason(t, rules) for t in type_texts], dtype=np.int8)
    if type_reason.any() and n:
        per_row = gather(type_reason, type_column.codes)
        np.copyto(reason_code, per_row, where=per_row > 0)
    reason_code[np.isnan(score)] = REASON_CODE["no-score"]
    # Missing, then excused: one lookup per status text.
    status_reason = np.array(
        [{"missing": REASON_CODE["missing"], "excused": REASON_CODE["excused"]}.get(t, 0)
         for t in [*status.texts, ""]], dtype=np.int8
    )
    if status_reason.any() and n:
        per_row = gather(status_reason, status.codes)
        np.copyto(reason_code, per_row, where=per_row > 0)
    unknown = np.array([t not in info for t in [*target.texts, ""]], dtype=bool)
    if n and (unknown[:-1].any() or int(np.min(target.codes)) < 0):
        reason_code[gather(unknown, target.codes)] = REASON_CODE["unknown-target"]
    weights = np.array([rules.weight_of(t) for t in type_texts], dtype=np.float64)
    if not n:
        weight = np.zeros(0)
    elif bool((weights == weights[0]).all()):
        # One weight for every type (no per-type weights): the same number, not 8 MB of it.
        weight = np.broadcast_to(weights[0], (n,))
    else:
        weight = gather(weights, type_column.codes)
    criterion = _criterion_weights(ev)
    if criterion is not None:
        weight = weight * criterion  # a rubric criterion's weight times its type's
    counted_score = score
    resolved = _resolve_ratings(ev, reason_code, score, policy.raters)
    if resolved is not None:
        counted_score, others = resolved
        reason_code[others] = REASON_CODE["another-rater"]
    return ev.with_columns(
        competency=competency,
        reason=Coded(reason_code, ["", *SET_ASIDE_REASONS]),
        used=reason_code == 0,
        weight=weight,
        score=counted_score,
        rating=score,
    )


def _moderator_warnings(ev: Table, policy: Policy) -> list[Diagnostic]:
    """A warning when work was scored by several raters and the moderator the policy names
    is no rater of the files at all (a misspelt name would quietly turn every piece into a
    mean)."""
    rule = policy.raters
    if (rule.resolve != "moderator" or rule.moderator is None or "rater" not in ev
            or not ev.coded("reason").equals_text("another-rater").any()):
        return []
    names = sorted({text.strip() for text in ev.coded("rater").texts} - {""})
    if any(rule.is_moderator(name) for name in names):
        return []
    from mastery_cli.diagnostics import warning
    from mastery_cli.validation.rules import did_you_mean

    line, column = rule.moderator_at
    return [warning(
        "moderator-not-found",
        f"moderator '{rule.moderator}' rated none of the evidence: the work scored by several "
        "raters was resolved by the mean",
        policy.path or "<policy>", line, column,
        hint=did_you_mean(rule.moderator, names) or "raters in the files: "
        + ", ".join(names[:10]) + (", ..." if len(names) > 10 else ""),
        pointer="raters/moderator",
    )]


_NO_DATE = np.iinfo(np.int64).min  # NaT as int64 nanoseconds


def _resolve_ratings(
    ev: Table, reason_code: npt.NDArray[np.int8], score: npt.NDArray[np.float64],
    rule: RaterRule,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]] | None:
    """(the scores that count, the rows set aside as "another-rater"), or None when no piece
    of work was scored by several raters.

    A piece of work is the rows still used (``reason_code`` 0) of one student, target,
    assessment and date that name a rater; when they name two raters or more, they are one
    piece of evidence: its first row in input order carries the score resolved from all its
    ratings by ``rule``, and the others are set aside. Rows without a rater, and rows with
    neither an assessment nor a date (nothing says they are the same work), stay pieces of
    their own, as they always were.

    Means (and the median of an even number of ratings) are exact: ratings that are decimals
    of up to 6 places are added as whole millionths, and one division gives the double
    nearest the exact mean (2.67 and 2.68 give the double nearest 2.675, which rounds to 2.68).
    """
    if "rater" not in ev:
        return None
    rater = ev.coded("rater")
    if len({text.strip() for text in rater.texts} - {""}) < 2:
        # No rater column (the usual case), or one rater for everything: no piece of work
        # can have two raters, and the column's codes are not even made.
        return None
    rater_codes, rater_texts = text_codes(rater)
    candidate = (reason_code == 0) & np.array([bool(t) for t in rater_texts])[rater_codes]
    if "assessment" in ev:
        assessment_codes, assessment_texts = text_codes(ev.coded("assessment"))
    else:
        assessment_codes, assessment_texts = np.zeros(len(ev), dtype=np.int64), [""]
    dates = np.asarray(ev.array("date"), dtype="datetime64[ns]").view(np.int64)
    candidate &= np.array([bool(t) for t in assessment_texts])[assessment_codes] | (
        dates != _NO_DATE)
    rows = np.flatnonzero(candidate)
    if len(rows) < 2:
        return None
    student_codes, student_texts = text_codes(ev.coded("student_id"))
    target_codes, target_texts = text_codes(ev.coded("target"))
    date_rank, n_dates = dense_rank(dates[rows])
    keys = [(student_codes[rows], len(student_texts)), (target_codes[rows], len(target_texts)),
            (assessment_codes[rows], len(assessment_texts)), (date_rank, max(n_dates, 1))]
    if float(np.prod([float(size) for _, size in keys])) < 2.0**62:
        key = np.zeros(len(rows), dtype=np.int64)
        for codes, size in keys:
            key = key * size + codes
        order = np.argsort(key, kind="stable")
        key = key[order]
        new_group = key[1:] != key[:-1]
    else:  # (too many distinct values for one number: sorted key by key)
        order = np.lexsort([codes for codes, _ in reversed(keys)])
        new_group = np.zeros(len(rows) - 1, dtype=bool)
        for codes, _ in keys:
            in_order = codes[order]
            new_group |= in_order[1:] != in_order[:-1]
    rows = rows[order]
    # Groups of two rows or more, then those that name two raters or more: the pieces.
    starts = np.flatnonzero(np.concatenate(([True], new_group)))
    sizes = np.diff(np.append(starts, len(rows)))
    in_pair = np.repeat(sizes >= 2, sizes)
    if not in_pair.any():
        return None
    rows, sizes = rows[in_pair], sizes[sizes >= 2]
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    raters = rater_codes[rows]
    several = np.minimum.reduceat(raters, starts) != np.maximum.reduceat(raters, starts)
    if not several.any():
        return None
    rows = rows[np.repeat(several, sizes)]
    sizes = sizes[several]
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    piece = np.repeat(np.arange(len(sizes)), sizes)
    # Each piece's ratings from the lowest up (the median, highest and lowest read them so).
    by_rating = np.lexsort((score[rows], piece))
    rows = rows[by_rating]
    ratings = score[rows]
    if rule.resolve == "highest":
        value = ratings[starts + sizes - 1]
    elif rule.resolve == "lowest":
        value = ratings[starts]
    elif rule.resolve == "median":
        middle = np.stack([ratings[starts + (sizes - 1) // 2], ratings[starts + sizes // 2]],
                          axis=1).ravel()
        value = _exact_means(middle, np.arange(0, len(middle), 2))
    else:
        value = _exact_means(ratings, starts)
        if rule.resolve == "moderator":
            lookup = np.array([rule.is_moderator(t) for t in rater_texts])
            by_moderator = lookup[rater_codes[rows]]
            rated = np.logical_or.reduceat(by_moderator, starts)
            if rated.any():
                value = np.where(rated, _exact_means(ratings, starts, by_moderator), value)
    seq = np.asarray(ev.array("seq"))[rows]
    first = np.lexsort((seq, piece))[starts]  # each piece's first row in input order
    counted = score.copy()
    counted[rows[first]] = value
    others = np.ones(len(rows), dtype=bool)
    others[first] = False
    return counted, rows[others]


#: Ratings with up to this many decimal places are averaged exactly (`_exact_means`).
_EXACT_UNITS = 1e6


def _exact_means(values: npt.NDArray[np.float64], starts: npt.NDArray[np.int64],
                 counted: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.float64]:
    """The mean of each run of ``values`` starting at ``starts`` (of the ``counted`` ones;
    NaN for a run with none), as the double nearest the exact decimal mean when every value
    is a decimal of up to 6 places; the plain floating-point mean otherwise.

    Such a value is ``u / 10**6`` for a whole ``u``; the sum of the ``u`` is exact and one
    correctly rounded division of two whole numbers gives the nearest double."""
    chosen = np.ones(len(values), dtype=bool) if counted is None else counted
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        units = np.round(values * _EXACT_UNITS)
        exact = (units / _EXACT_UNITS == values) & (np.abs(units) < 2.0**40)
        count = np.add.reduceat(chosen.astype(np.int64), starts)
        all_exact = np.logical_and.reduceat(exact | ~chosen, starts)
        exact_sum = np.add.reduceat(np.where(chosen, units, 0.0), starts)
        plain_sum = np.add.reduceat(np.where(chosen, values, 0.0), starts)
        return np.where(all_exact, exact_sum / (count * _EXACT_UNITS), plain_sum / count)


def _column_names(files: Coded, reason_codes: npt.NDArray[np.int64],
                  about: npt.NDArray[Any], headers: Mapping[str, Mapping[str, str]]) -> Coded:
    """The column each set-aside row's reason is about, as its file's header spells it
    (``headers``: per file, field -> header) where known, else the field's name."""
    if not headers or not len(reason_codes):
        return Coded(reason_codes, about.tolist())
    file_codes = np.asarray(files.codes, dtype=np.int64)
    key = (file_codes + 1) * len(about) + reason_codes  # code -1 (no file) gives 0..
    distinct, inverse = np.unique(key, return_inverse=True)
    file_texts = [*files.texts]
    names = []
    for value in distinct.tolist():
        file_code, reason = divmod(value, len(about))
        field_name = str(about[reason])
        spelled = headers.get(file_texts[file_code - 1], {}) if file_code else {}
        names.append(spelled.get(field_name, field_name))
    return Coded(np.asarray(inverse, dtype=np.int64).reshape(-1), names)


def _type_reason(evidence_type: str, rules: EvidenceRules) -> int:
    """The set-aside reason code an evidence type carries by itself (0: none)."""
    if rules.count_types is not None and evidence_type not in rules.count_types:
        return REASON_CODE["type-not-counted"]
    if evidence_type in rules.exclude_types:
        return REASON_CODE["type-excluded"]
    if rules.weight_of(evidence_type) == 0:
        return REASON_CODE["zero-weight"]
    return 0


def weighs(ev: Table, policy: Policy) -> bool:
    """Whether evidence weighs differently: per type (policy) or per rubric criterion."""
    return bool(policy.evidence.type_weights) or _criterion_weights(ev) is not None


def _criterion_weights(ev: Table) -> npt.NDArray[np.float64] | None:
    """Per row, the weight of the rubric criterion it was scored on (``criterion_weight``,
    written by `mastery grade --rubric`; 1 where blank), or None when no row has one."""
    if "criterion_weight" not in ev or not len(ev):
        return None
    column = ev.coded("criterion_weight")
    texts = [*column.texts, ""]
    if not any(t.strip() for t in texts):
        return None
    per_text = np.array([_weight_text(t) for t in texts], dtype=np.float64)
    return gather(per_text, column.codes)


def _weight_text(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        return 1.0
    return value if value >= 0 and np.isfinite(value) else 1.0


def _outside_rows(ev: Table, policy: Policy) -> npt.NDArray[np.bool_] | None:
    """Rows of learning outside school (their source is one of the policy's outside sources);
    None when the policy says nothing about outside evidence, or no row is outside."""
    rule = policy.outside_evidence
    if rule is None or "source" not in ev or not len(ev):
        return None
    source = ev.coded("source")
    per_text = np.array([rule.is_outside(t) for t in [*source.texts, ""]], dtype=bool)
    if not per_text.any():
        return None
    return gather(per_text, source.codes)


def _approved_rows(ev: Table) -> npt.NDArray[np.bool_]:
    """Rows someone approved: ``approved_by`` filled in and ``approved_on`` a date."""
    from mastery_cli.grading.ingest import parse_dates

    if "approved_by" not in ev or "approved_on" not in ev:
        return np.zeros(len(ev), dtype=bool)
    by = ev.coded("approved_by")
    signed = np.array([bool(t.strip()) for t in [*by.texts, ""]], dtype=bool)
    on = ev.coded("approved_on")
    texts = [*on.texts, ""]
    days, bad = parse_dates([t.strip() for t in texts], None)
    dated = ~np.isnat(np.asarray(days, dtype="datetime64[ns]")) & ~bad
    return gather(signed, by.codes) & gather(dated, on.codes)


def _window_reasons(reason_code: npt.NDArray[np.int8], ev: Table, rules: EvidenceRules,
                    policy: Policy, outside: npt.NDArray[np.bool_] | None) -> None:
    """Dated evidence outside the grading window: ``before-window`` / ``after-window``.
    Learning outside school has its own window where the policy gives one (a bound it gives
    replaces the evidence window's): a summer internship the policy counts is not early."""
    rule = policy.outside_evidence
    own_from = rule.date_from if rule is not None and outside is not None else None
    own_to = rule.date_to if rule is not None and outside is not None else None
    if not (rules.date_from or rules.date_to or own_from or own_to) or not len(ev):
        return
    dates = np.asarray(ev.array("date"), dtype="datetime64[ns]")
    inside = np.ones(len(ev), dtype=bool) if outside is None else ~outside
    for bound, own, code, late in ((rules.date_to, own_to, "after-window", True),
                                   (rules.date_from, own_from, "before-window", False)):
        for rows, day in ((inside, bound), (outside, own or bound)):
            if rows is None or not day:
                continue
            if late:
                beyond = dates >= _day_start(day) + np.timedelta64(1, "D")
            else:
                beyond = dates < _day_start(day)
            reason_code[beyond & rows] = REASON_CODE[code]


def _day_start(day: Any) -> np.datetime64:
    """Midnight of a policy date (a date or ISO text) as datetime64[ns]."""
    return np.datetime64(str(day)[:10], "D").astype("datetime64[ns]")


def _set_aside_rows(ev: Table, headers: Mapping[str, Mapping[str, str]]) -> Table:
    """The rows the policy set aside, as rejects.csv rows; the value shown is the cell the
    reason is about (the target, the type, the date or the status)."""
    # Only the columns shown are read (at the set-aside rows): the others may be deferred.
    aside = np.flatnonzero(~ev.array("used"))
    reason_codes = np.asarray(ev.coded("reason").codes, dtype=np.int64)[aside]  # 0: "" (used)
    reasons = ["", *SET_ASIDE_REASONS]
    about = np.array(["", *(_REASON_COLUMN[r] for r in SET_ASIDE_REASONS)], dtype=object)
    column_of = about[reason_codes]
    value = np.full(len(aside), "", dtype=object)
    # The score as the file wrote it ("EX", "M") where the reader kept it, else its status.
    score_source = "score_cell" if "score_cell" in ev else "status"
    for about_column, source in (("target", "target"), ("type", "type"),
                                 ("score", score_source), ("rater", "rater"),
                                 ("approved_by", "approved_by")):
        rows = np.flatnonzero(column_of == about_column)
        if len(rows):
            value[rows] = ev.coded(source).take(aside[rows]).values()
    rows = np.flatnonzero(column_of == "date")
    if len(rows):
        dates = np.asarray(ev.array("date"), dtype="datetime64[ns]")[aside[rows]]
        days = np.datetime_as_string(dates, unit="D").astype(object)
        days[np.isnat(dates)] = ""
        value[rows] = days
    messages = np.array(["", *SET_ASIDE_REASONS.values()], dtype=object)
    return Table(
        {
            "file": ev.coded("file").take(aside),
            "row": np.asarray(ev.array("row"), dtype=np.int64)[aside],
            "student_id": ev.coded("student_id").take(aside),
            "column": _column_names(ev.coded("file").take(aside), reason_codes, about, headers),
            "value": value,
            "reason": Coded(reason_codes, reasons),
            "message": Coded(reason_codes, messages.tolist()),
        },
        len(aside),
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


def group_index(keys: npt.NDArray[np.integer[Any]], key_count: int) -> tuple[
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
    uniques, codes = np.unique(keys, return_inverse=True)
    return np.asarray(codes, dtype=np.int64).reshape(-1), np.asarray(uniques, dtype=np.int64)


def _evidence_order(
    group: npt.NDArray[np.int64],
    dates: npt.NDArray[np.int64],
    seq: npt.NDArray[Any],
    used: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.int64] | None, npt.NDArray[np.int64]]:
    """(the permutation that puts the used rows in evidence order, or None when they are in
    it already; where each group's run starts in that order).

    ``group`` and ``dates`` (sort keys) are per used row; ``seq`` is the input order of every
    row and ``used`` says which rows are used. Evidence order is group, then date, then input
    order.
    """
    if not len(group):
        return None, np.zeros(0, dtype=np.int64)
    if len(seq) > 1 and not bool(np.all(seq[1:] > seq[:-1])):
        order = np.lexsort((np.asarray(seq)[used], dates, group))
    else:
        # Rows in input order (as the reader gives them). Exports usually list a student's
        # evidence target by target, oldest first: then every group is one run with its dates
        # ascending, and there is nothing to sort (a few passes to make sure).
        boundary = group[1:] != group[:-1]
        if bool(np.all(boundary | (dates[1:] >= dates[:-1]))):
            starts = np.concatenate(([0], np.flatnonzero(boundary) + 1))
            if int(np.bincount(group[starts]).max()) == 1:
                return None, starts
        del boundary
        # Otherwise a stable sort on one combined key, fast on data mostly in order.
        date_rank, distinct = dense_rank(dates)
        order = np.argsort(group * max(distinct, 1) + date_rank, kind="stable")
    in_order = group[order]
    return order, np.concatenate(([0], np.flatnonzero(in_order[1:] != in_order[:-1]) + 1))


_DAY_NS = 86_400 * 10**9


def dense_rank(values: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], int]:
    """(rank of each value among the distinct values, how many ranks there are): a value's
    rank orders like the value.

    Evidence dates are nearly always whole days within a few years, so the ranks come from a
    table over that span (linear time) instead of a sort of a million values; the int64
    extremes that stand for undated evidence get the first and last ranks. Anything else
    (times of day, centuries apart) takes the general route through a sort.
    """
    if not len(values):
        return np.zeros(0, dtype=np.int64), 0
    low_end, high_end = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    special = (values == low_end) | (values == high_end)
    ordinary = values if not special.any() else values[~special]
    if len(ordinary):
        first, last = int(ordinary.min()), int(ordinary.max())
        span = (last - first) // _DAY_NS + 1
        if span <= max(4 * len(values), 1 << 16) and not (ordinary % _DAY_NS).any():
            day = np.where(special, 0, (values - first) // _DAY_NS + 1)
            day[values == high_end] = span + 1
            present = np.bincount(day, minlength=span + 2) > 0
            rank_of_day = np.cumsum(present) - 1
            return rank_of_day[day], int(present.sum())
    distinct, inverse = np.unique(values, return_inverse=True)
    return np.asarray(inverse, dtype=np.int64).reshape(-1), len(distinct)


def _target_results(ev: Table, framework: Framework, policy: Policy) -> tuple[Table, Table]:
    """(the target results, the evidence with its ``order`` column)."""
    info = _target_info(framework)
    n_rows = len(ev)
    reason_codes = np.asarray(ev.coded("reason").codes)
    known = reason_codes != 1 + list(SET_ASIDE_REASONS).index("unknown-target")
    known_at = None if bool(known.all()) else np.flatnonzero(known)

    def known_rows(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return values if known_at is None else values[known_at]

    student_all, student_texts = compact_text_codes(ev.coded("student_id"))
    target_all, target_texts = compact_text_codes(ev.coded("target"))
    n_targets = max(len(target_texts), 1)
    key_count = max(len(student_texts), 1) * n_targets
    key_type = np.int32 if key_count < 2**31 else np.int64
    # Widened before the product: the reader's codes are int8 or int16.
    keys = np.multiply(known_rows(student_all), n_targets, dtype=key_type)
    np.add(keys, known_rows(target_all), out=keys)
    group_codes, group_keys = group_index(keys, key_count)
    del keys
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
    scales = [framework.scales.get(s) or _fallback_scale(framework) for s in scale_ids]

    # Used evidence in evidence order: group, then date, then input order. Segments are the
    # runs of one group; each group has at most one.
    # The used rows are picked with the mask itself: their positions (8 MB of fresh memory at
    # a million rows) are only needed when the rows must be sorted.
    used = known_rows(ev.array("used"))
    u_group = group_codes[used]
    dates_ns = known_rows(np.asarray(ev.array("date"), dtype="datetime64[ns]").view(np.int64))
    dates_ns = dates_ns[used]
    order, starts = _evidence_order(u_group, _order_key(dates_ns, policy),
                                    known_rows(np.asarray(ev.array("seq"))), used)
    u_score = known_rows(np.asarray(ev.array("score"), dtype=np.float64))[used]
    u_weight = (known_rows(np.asarray(ev.array("weight"), dtype=np.float64))[used]
                if weighs(ev, policy) else None)
    if order is not None:
        u_group, dates_ns, u_score = u_group[order], dates_ns[order], u_score[order]
        u_weight = None if u_weight is None else u_weight[order]
    segment_group = u_group[starts]
    segment_target = group_target[segment_group]
    del u_group

    value = np.full(n_groups, np.nan)
    count = np.zeros(n_groups, dtype=np.int64)
    method_status = np.full(n_groups, -1, dtype=np.int8)  # -1: no used evidence
    segment_spec = spec_index[segment_target]
    one_spec = len(starts) == 0 or bool((segment_spec == segment_spec[0]).all())
    # Position of each used row in its segment (with one method, the kernel's own array).
    position = np.zeros(0 if one_spec else len(u_score), dtype=np.int64)
    segment_count = np.diff(np.append(starts, len(u_score)))
    for spec_at in ([int(segment_spec[0])] if one_spec and len(starts)
                    else sorted_distinct(segment_spec).tolist()):
        spec = specs[spec_at]
        if one_spec:
            segments: npt.NDArray[np.int64] | slice = slice(None)
            rows: npt.NDArray[np.bool_] | slice = slice(None)
            part_starts = starts
        else:  # targets with methods of their own: their rows, segment by segment
            chosen = segment_spec == spec_at
            segments = np.flatnonzero(chosen)
            rows = np.repeat(chosen, segment_count)
            part_starts = np.concatenate(([0], np.cumsum(segment_count[segments])[:-1]))
        targets_here = segment_target[segments]
        result_value, result_count, result_status, result_position = methods.compute_segments(
            spec,
            part_starts,
            u_score[rows],
            u_weight[rows] if u_weight is not None and spec.info.uses_weights else None,
            scale_min=_per_segment([s.min_value for s in scales], scale_index, targets_here),
            scale_max=_per_segment([s.max_value for s in scales], scale_index, targets_here),
            mastery_threshold=_per_segment([s.mastery_value for s in scales], scale_index,
                                           targets_here),
        )
        groups_here = segment_group[segments]
        value[groups_here] = result_value
        count[groups_here] = result_count
        method_status[groups_here] = result_status
        if one_spec:
            position = result_position
        else:
            position[rows] = result_position

    # Position of each used row in evidence order (for explain and grades.json).
    full_position = np.full(n_rows, -1, dtype=np.int64)
    if order is None and known_at is None:
        full_position[used] = position
    else:
        rows_used = np.flatnonzero(used)
        if order is not None:
            rows_used = rows_used[order]
        full_position[rows_used if known_at is None else known_at[rows_used]] = position
    ev = ev.with_columns(order=full_position)

    # Status: excused-only groups, too little evidence, the method's own verdict.
    excused_code = 1 + list(SET_ASIDE_REASONS).index("excused")
    # Only groups without used evidence can be "all excused": their rows are all set aside,
    # so counting the set-aside rows that are not excused (a few percent) is enough.
    aside = np.flatnonzero(~used)
    other = aside[known_rows(reason_codes)[aside] != excused_code]
    all_excused = np.bincount(group_codes[other], minlength=n_groups) == 0
    status = np.zeros(n_groups, dtype=np.int8)  # index into _TARGET_STATUS
    status[method_status == methods.STATUS_INSUFFICIENT] = 1
    status[method_status == methods.STATUS_NO_RESULT] = 2
    too_few = count < min_evidence[group_target]
    status[too_few] = 1
    status[(count == 0) & all_excused] = 3
    ok = status == 0
    value[~ok] = np.nan

    # Last date of used evidence per group (NaT when undated).
    last = np.full(n_groups, np.iinfo(np.int64).min, dtype=np.int64)
    if len(starts):
        last[segment_group] = np.maximum.reduceat(dates_ns, starts)
    last_date = last.view("datetime64[ns]").copy()
    last_date[last == np.iinfo(np.int64).min] = np.datetime64("NaT")

    # Levels, per scale (a loop over a couple of scales).
    level = np.full(n_groups, np.nan)
    label_code = np.zeros(n_groups, dtype=np.int64)
    label_texts = [""]
    mastered = np.zeros(n_groups, dtype=bool)
    group_scale = scale_index[group_target]
    for index, scale in enumerate(scales):
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

    names = _student_names(ev, known_rows(student_all), len(student_texts), known_at)
    spec_labels = [method_label(s) for s in specs]
    targets = Table(
        {
            "student_id": coded(student_texts, group_student),
            "student_name": coded(names, group_student),
            "target": coded(target_list, group_target),
            "competency": coded(competency_list, group_target),
            "method": coded(spec_labels, spec_index[group_target]),
            "score": value,
            "level": np.where(ok, level, np.nan),
            "label": coded(label_texts, label_code),
            "mastered": Flags(mastered, ok),
            "evidence_count": count,
            "status": coded(list(_TARGET_STATUS), status),
            "last_evidence_date": last_date,
            "scale": coded(scale_ids, group_scale),
        },
        n_groups,
    )
    return targets, ev


def _per_segment(per_scale: list[float], scale_index: npt.NDArray[np.int64],
                 segment_target: npt.NDArray[np.int64]) -> float | npt.NDArray[np.float64]:
    """A scale's bound for each segment: one number when every segment has the same."""
    values = np.asarray(per_scale, dtype=np.float64)[scale_index]
    if not len(values) or bool((values == values[0]).all()):
        return float(values[0]) if len(values) else 0.0
    return values[segment_target]

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
    ev: Table,
    student_codes: npt.NDArray[np.integer[Any]],
    n_students: int,
    known_at: npt.NDArray[np.int64] | None,
) -> list[str]:
    """Per student code: the first non-empty name in input order ("" when none), among the
    rows ``known_at`` (all rows when None; ``student_codes`` are those rows' codes)."""
    names_column = ev.coded("student_name")
    name_codes = np.asarray(names_column.codes)
    seq = np.asarray(ev.array("seq"))
    if known_at is not None:
        name_codes, seq = name_codes[known_at], seq[known_at]
    name_texts = list(names_column.texts)
    # The last entry answers code -1 (no name).
    has_name = np.array([bool(t) for t in name_texts] + [False])
    named: npt.NDArray[np.int64] | None = None  # None: every row has a name
    if not (has_name[:-1].all() and (not len(name_codes) or int(name_codes.min()) >= 0)):
        named = np.flatnonzero(has_name[name_codes])
        seq = seq[named]
    if len(seq) > 1 and not bool(np.all(seq[1:] >= seq[:-1])):
        by_seq = np.argsort(seq, kind="stable")
        named = by_seq if named is None else named[by_seq]
    first = first_rows(student_codes if named is None else student_codes[named], n_students)
    present = np.flatnonzero(first >= 0)
    rows = first[present] if named is None else named[first[present]]
    names = [""] * n_students
    for student, name in zip(present.tolist(), name_codes[rows].tolist(), strict=True):
        names[student] = name_texts[name]
    return names
