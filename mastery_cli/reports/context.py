"""What each report template receives: plain dicts built from grades.json and the framework.

The input is the ``grades.json`` document (``docs/CONTRACTS.md``, "Grades") as a dict, so a
report can be made from a saved grading run (``--grades DIR``) or from a fresh one alike.
Family-facing framework text is taken in the report language, falling back to the framework's
default language (:func:`missing_framework_text` lists what fell back). Labels in grades.json
are ignored in favour of the framework's, which exist in every language.

Every context is a tree of dicts, lists, strings, numbers and Markup, so it pickles cheaply to
worker processes, and its order is fixed by the framework, so output is byte-identical.
The variables are documented in ``docs/templates.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from babel import Locale
from babel.numbers import format_decimal, format_percent

from mastery_cli.diagnostics import Diagnostic, MasteryError, error, warning
from mastery_cli.framework.model import (
    Competency,
    Course,
    Framework,
    Level,
    Scale,
    Target,
    Text,
    family_texts,
    level_key,
)
from mastery_cli.reports.charts import progress_chart
from mastery_cli.reports.comments import Comments
from mastery_cli.reports.i18n import format_long_date, format_number, format_short_date
from mastery_cli.reports.roster import Roster
from mastery_cli.reports.terms import Term
from mastery_cli.reports.transcript import transcript_terms

Context = dict[str, Any]

STATUS_OK = "ok"
#: Statuses the templates know how to explain; anything else is shown as "no result".
STATUSES = ("ok", "insufficient-evidence", "not-assessed", "excused", "no-result")


@dataclass
class ReportOptions:
    language: str
    locale: Locale
    report_date: date
    term: str = ""
    paper: str = "letter"
    html_lang: str = "en"
    #: Benchmarked work to show next to each level (target id -> level -> exemplars), from
    #: `mastery_cli.rubrics.bank.exemplar_index`; empty: none shown.
    exemplars: Mapping[str, Mapping[float, Sequence[Any]]] = field(default_factory=dict)
    #: Report cards show the exemplar of each target's level too (the school turns it on).
    report_card_exemplars: bool = False


@dataclass
class ReportData:
    """grades.json indexed for quick look-ups, with the framework and the comments."""

    grades: Mapping[str, Any]
    framework: Framework
    options: ReportOptions
    comments: Comments = field(default_factory=Comments)
    roster: Roster = field(default_factory=Roster)
    #: Learner records by student id (``report learner``).
    learners: dict[str, Any] = field(default_factory=dict)
    #: Several terms for a transcript, oldest first (``grades`` is then their merge); empty:
    #: ``grades`` is the one term, named by ``options.term``.
    terms: Sequence[Term] = ()

    def __post_init__(self) -> None:
        students = self.grades.get("students")
        if self.grades.get("version") != 1 or not isinstance(students, list):
            raise MasteryError(error(
                "bad-grades-file", "this is not a version 1 grades.json", "grades.json",
                hint="write it with: mastery grade ... --format json --out DIR",
            ))
        self.students: dict[str, Mapping[str, Any]] = {}
        for student in students:
            self.students[str(student["id"])] = student
        # Formatting through Babel costs ~60 µs a call and the same few values recur in every
        # document: memoise per run (identical output, a third of the rendering time saved).
        self._numbers: dict[float, str] = {}
        self._dates: dict[str, str] = {}
        self._levels: dict[tuple[str, float], Context] = {}

    def term_views(self) -> list[tuple[Term, ReportData]]:
        """Each term with the grades read as a report of its own (its policy words its
        course grades), oldest first."""
        if not self.terms:
            return [(Term(self.options.term, self.grades), self)]
        if not hasattr(self, "_term_views"):
            self._term_views = [(t, ReportData(t.grades, self.framework, self.options,
                                               self.comments)) for t in self.terms]
        return self._term_views

    # -- text ---------------------------------------------------------------------------------

    def text(self, value: Text | None) -> str:
        return self.framework.text(value, self.options.language)

    # -- levels -------------------------------------------------------------------------------

    def scale_for_competency(self, competency_id: str) -> Scale | None:
        competency = self.framework.competencies.get(competency_id)
        if competency is None:
            return self.framework.default_scale
        return self.framework.scale_of(competency)

    def level_view(self, scale: Scale | None, value: float | None) -> Context | None:
        """A level as the templates show it: number, label, descriptor and a colour rank."""
        if scale is None or value is None:
            return None
        key = (scale.id, float(value))
        if key not in self._levels:
            level = scale.level(float(value)) or scale.level_for_score(float(value))
            ordered = sorted(scale.levels, key=lambda lv: lv.value)
            self._levels[key] = self._level(scale, level, ordered.index(level) + 1, len(ordered))
        return self._levels[key]

    def _level(self, scale: Scale, level: Level, rank: int, count: int) -> Context:
        mastery = scale.mastery_value
        return {
            "value": level.value,
            "text": level_key(level.value),
            "label": self.text(level.label),
            "descriptor": self.text(level.descriptor),
            "rank": rank,
            # Four colour steps; a longer scale shares them out, keeping the top one for the top.
            "tone": 4 if rank == count else 1 + (rank - 1) * 3 // max(count - 1, 1),
            "is_mastery": level.value == mastery,
            "meets_goal": level.value >= mastery,
        }

    def scale_view(self, scale: Scale) -> Context:
        ordered = sorted(scale.levels, key=lambda lv: lv.value)
        return {
            "id": scale.id,
            "title": self.text(scale.title) or scale.id,
            "description": self.text(scale.description),
            "levels": [self._level(scale, lv, i + 1, len(ordered)) for i, lv in enumerate(ordered)],
            "goal": self._level(scale, scale.mastery_level,
                                ordered.index(scale.mastery_level) + 1, len(ordered)),
        }

    def number(self, value: float | None) -> str:
        if value is None:
            return ""
        number = float(value)
        if number not in self._numbers:
            self._numbers[number] = format_number(number, self.options.locale,
                                                  places=self._places)
        return self._numbers[number]

    @cached_property
    def _places(self) -> int:
        """The policy's places: grades.json holds scores rounded to them, and a report shows
        them as they are (Babel would round a 2.445 again, half to even, to 2.44). At least 2,
        which credits such as 0.25 need."""
        places = (self.grades.get("policy") or {}).get("rounding")
        return max(places, 2) if isinstance(places, int) and places <= 15 else 2

    # -- common -------------------------------------------------------------------------------

    def common(self, title: str) -> Context:
        options = self.options
        return {
            "lang": options.html_lang,
            "document_title": title,
            "school": self.text(self.framework.school),
            "framework_title": self.text(self.framework.title) or self.framework.id,
            "report_date": format_long_date(options.report_date, options.locale),
            "term": options.term,
            "paper": options.paper,
        }

    def policy_view(self) -> Context:
        policy = self.grades.get("policy") or {}
        params = policy.get("params") or {}
        weight = params.get("weight")
        return {
            "method": str(policy.get("method") or ""),
            "params": dict(params),
            "weight_pct": self._percent(weight) if isinstance(weight, int | float) else "",
            "rest_pct": self._percent(1 - weight) if isinstance(weight, int | float) else "",
            "n": int(params["n"]) if isinstance(params.get("n"), int | float) else 0,
            "min_evidence": int(policy.get("min_evidence") or 0),
            "description": str(policy.get("description") or ""),
        }

    def _percent(self, share: float) -> str:
        from babel.numbers import format_percent

        return format_percent(share, format="#,##0.#%", locale=self.options.locale)

    def student_view(self, student: Mapping[str, Any]) -> Context:
        return {
            "id": str(student["id"]),
            "name": str(student.get("name") or student["id"]),
            "sections": [str(s) for s in student.get("sections") or []],
        }

    def roster_view(self, student: Mapping[str, Any]) -> Context | None:
        """What the roster says about ``student`` (grade level, advisor, the teachers of the
        student's sections, attendance, date of birth), formatted; None without a roster row."""
        entry = self.roster.get(str(student["id"]))
        if entry is None:
            return None
        sections = [str(s) for s in student.get("sections") or []]
        teachers = [{"section": s, "teacher": entry.teachers[s]} for s in sections
                    if s in entry.teachers]
        teachers += [{"section": s, "teacher": t} for s, t in entry.teachers.items()
                     if s not in sections]
        locale = self.options.locale
        return {
            "grade_level": entry.grade_level,
            "advisor": entry.advisor,
            "teachers": teachers,
            "days_present": "" if entry.days_present is None
            else format_decimal(entry.days_present, locale=locale),
            "days_absent": "" if entry.days_absent is None
            else format_decimal(entry.days_absent, locale=locale),
            "date_of_birth": "" if entry.date_of_birth is None
            else format_long_date(entry.date_of_birth, locale),
        }

    def student(self, student_id: str) -> Mapping[str, Any]:
        try:
            return self.students[student_id]
        except KeyError:
            raise MasteryError(error(
                "unknown-student", f"no student '{student_id}' in the grades", "--student",
                hint="student ids are as in grades.json (leading zeros count)",
            ), usage=True) from None

    def student_courses(self, student: Mapping[str, Any]) -> list[str]:
        """The student's course ids: from grades.json course entries (ids or result objects)."""
        ids: list[str] = []
        for entry in student.get("courses") or []:
            course_id = entry.get("course") if isinstance(entry, Mapping) else entry
            if isinstance(course_id, str) and course_id in self.framework.courses:
                ids.append(course_id)
        return list(dict.fromkeys(ids))

    def course_results(self, student: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        return {
            str(entry["course"]): entry for entry in student.get("courses") or []
            if isinstance(entry, Mapping) and "course" in entry
        }

    # -- targets and competencies ------------------------------------------------------------

    def target_view(self, target: Target, result: Mapping[str, Any] | None,
                    student_id: str | None = None) -> Context:
        scale = self.framework.target_scale(target)
        status = _status(result)
        level = self.level_view(scale, result.get("level")) if result and status == "ok" else None
        descriptor = ""
        if level is not None:
            indicator = target.indicators.get(float(level["value"]))
            descriptor = self.text(indicator) if indicator else level["descriptor"]
        scores, evidence_text = self._evidence(result)
        chart = progress_chart(scores, scale_min=scale.min_value, scale_max=scale.max_value,
                               goal=scale.mastery_value) if scale else None
        return {
            "id": target.id,
            "title": self.text(target.title) or self.text(target.statement),
            "statement": self.text(target.statement),
            "i_can": self.text(target.i_can),
            "status": status,
            "level": level,
            "score": self.number(result.get("score")) if result and status == "ok" else "",
            "mastered": bool(result and result.get("mastered")),
            "descriptor": descriptor,
            "evidence_count": int(result.get("evidence_count") or 0) if result else 0,
            "evidence": evidence_text,
            "chart": chart,
            "comments": self.comments.for_item(student_id, target.id) if student_id else [],
            "exemplars": list(self.options.exemplars.get(target.id, {}).get(
                float(level["value"]), ())) if level and self.options.report_card_exemplars
            else [],
        }

    def _evidence(self, result: Mapping[str, Any] | None) -> tuple[list[float], list[Context]]:
        if not result:
            return [], []
        used = [
            e for e in result.get("evidence") or []
            if e.get("used", True) and isinstance(e.get("score"), int | float)
        ]
        used.sort(key=lambda e: str(e.get("date") or ""))
        scores = [float(e["score"]) for e in used]
        shown = [
            {"score": self.number(e["score"]), "date": self._date_text(e.get("date")),
             "assessment": str(e.get("assessment") or ""),
             # Learning outside school (an internship, a prior school): shown by its source.
             "source": _outside_source(e.get("source"))}
            for e in used
        ]
        return scores, shown

    def date_text(self, value: object) -> str:
        """An ISO date as the report's locale writes it (medium length)."""
        return self._date_text(value)

    def _date_text(self, value: object) -> str:
        if not value:
            return ""
        text = str(value)
        if text not in self._dates:
            try:
                shown = format_short_date(date.fromisoformat(text[:10]), self.options.locale)
            except ValueError:
                shown = text
            self._dates[text] = shown
        return self._dates[text]

    def competency_view(self, competency: Competency, student: Mapping[str, Any],
                        targets: Iterable[str] | None = None) -> Context:
        student_id = str(student["id"])
        results = {str(t["target"]): t for t in student.get("targets") or []}
        comp_result = next((c for c in student.get("competencies") or []
                            if c.get("competency") == competency.id), None)
        scale = self.framework.scale_of(competency)
        wanted = set(targets) if targets is not None else None
        target_views = [
            self.target_view(t, results.get(t.id), student_id)
            for t in competency.targets if wanted is None or t.id in wanted
        ]
        status = _status(comp_result)
        level = (self.level_view(scale, comp_result.get("level"))
                 if comp_result and status == "ok" else None)
        goal = self.scale_view(scale)["goal"] if scale else None
        return {
            "id": competency.id,
            "title": self.text(competency.title),
            "statement": self.text(competency.statement),
            "kind": competency.kind,
            "status": status,
            "level": level,
            "score": self.number(comp_result.get("score")) if comp_result and status == "ok"
            else "",
            "on_track": bool(comp_result and comp_result.get("mastered")),
            "goal": goal,
            "targets": target_views,
            "targets_total": len(target_views),
            "targets_mastered": sum(1 for t in target_views if t["mastered"]),
            "comments": self.comments.for_item(student_id, competency.id),
        }

    # -- documents ----------------------------------------------------------------------------

    def report_card(self, student_id: str) -> Context:
        student = self.student(student_id)
        view = self.student_view(student)
        courses = []
        for course_id in self.student_courses(student):
            course = self.framework.courses[course_id]
            course_targets = set(self.framework.course_targets(course))
            competencies = [
                self.competency_view(c, student, course_targets)
                for c in self._competencies_of(course_targets, course) if not c.is_efficacy
            ]
            courses.append({
                **self._course_head(course),
                "grade": self._course_grade(self.course_results(student).get(course_id)),
                "competencies": competencies,
                "comments": self.comments.for_item(student_id, course_id),
            })
        studied = {t for c in self.student_courses(student)
                   for t in self.framework.course_targets(self.framework.courses[c])}
        if not studied:
            # No course results (a policy without course grades): one untitled group with
            # every academic target the student has a result on.
            studied = {str(t["target"]) for t in student.get("targets") or []}
            courses.append({
                "id": "", "title": "", "type": "course", "description": "",
                "grade": self._course_grade(None) | {"status": "ok"},
                "competencies": [self.competency_view(c, student, studied)
                                 for c in self._competencies_of(studied) if not c.is_efficacy],
                "comments": [],
            })
        efficacy = [self.competency_view(c, student, studied)
                    for c in self._competencies_of(studied) if c.is_efficacy]
        scales = self._scales_used(studied)
        return {
            **self.common(view["name"]),
            "contact": self.text(self.framework.school_contact),
            "student": view,
            "roster": self.roster_view(student),
            "courses": courses,
            "efficacy": efficacy,
            "next_steps": self._next_steps(student),
            "comments": self.comments.for_student(student_id),
            "legend": [self.scale_view(s) for s in scales],
            "policy": self.policy_view(),
        }

    def transcript(self, student_id: str) -> Context:
        student = self.student(student_id)
        view = self.student_view(student)
        terms = transcript_terms(self, student_id)
        return {
            **self.common(view["name"]),
            "student": view,
            "roster": self.roster_view(student),
            "terms": terms,
            "courses": [row for term in terms for row in term["courses"]],
            "credits_earned": terms[-1]["cumulative_credits"] if terms else self.number(0),
            "gpa": terms[-1]["cumulative_gpa"] if terms else "",
            "has_credits": any(c.credits is not None for c in self.framework.courses.values()),
            "profile": self.school_profile(),
        }

    def school_profile(self) -> Context:
        scales = sorted(self.framework.scales.values(), key=lambda s: s.id)
        default = self.framework.default_scale
        if default is not None:  # the academic scale first
            scales = [default] + [s for s in scales if s is not default]
        return {
            "description": self.text(self.framework.description),
            "scales": [self.scale_view(s) for s in scales],
            "policy": self.policy_view(),
            "courses": [
                {**self._course_head(c),
                 "credits": self.number(c.credits) if c.credits is not None else ""}
                for c in self.framework.courses.values()
            ],
        }

    def i_can(self, course_id: str, student_id: str | None = None) -> Context:
        course = self.framework.courses[course_id]
        student = self.student(student_id) if student_id is not None else None
        mastered: set[str] = set()
        if student is not None:
            mastered = {str(t["target"]) for t in student.get("targets") or [] if t.get("mastered")}
        course_targets = self.framework.course_targets(course)
        competencies: list[Context] = []
        for competency in self._competencies_of(set(course_targets), course):
            scale = self.framework.scale_of(competency)
            targets: list[Context] = []
            for target in competency.targets:
                if target.id not in course_targets:
                    continue
                pegged = self.options.exemplars.get(target.id, {})
                levels = [
                    {"level": self.level_view(scale, value),
                     "text": self.text(target.i_can_levels.get(value)),
                     "exemplars": list(pegged.get(value, ()))}
                    for value in sorted({*target.i_can_levels, *pegged})
                ]
                targets.append({
                    "id": target.id,
                    "title": self.text(target.title) or self.text(target.statement),
                    "i_can": self.text(target.i_can) or self.text(target.statement),
                    "levels": levels,
                    "mastered": target.id in mastered,
                })
            competencies.append({
                "id": competency.id, "title": self.text(competency.title),
                "kind": competency.kind, "i_can": self.text(competency.i_can),
                "targets": targets,
            })
        title = self.text(course.title)
        return {
            **self.common(title),
            "course": self._course_head(course),
            "student": self.student_view(student) if student is not None else None,
            "competencies": competencies,
            "mastered_count": sum(1 for c in competencies for t in c["targets"] if t["mastered"]),
            "target_count": sum(len(c["targets"]) for c in competencies),
        }

    def class_summary(self, section: str, student_ids: Sequence[str]) -> Context:
        # Sorted by surname, as rosters are (grades.json keeps the gradebook's order).
        students = sorted((self.students[s] for s in student_ids),
                          key=lambda s: surname_key(str(s.get("name") or s["id"])))
        target_ids = self.section_targets(section, students)
        targets = [self.framework.targets[t] for t in target_ids]
        groups = []
        for efficacy in (False, True):
            chosen = [t for t in targets if self.framework.competency_of(t).is_efficacy == efficacy]
            if chosen:
                groups.append(self._with_competencies(
                    self._grid(chosen, students, efficacy), chosen, students))
        # The section's progressions: those with a target among the section's (a student in
        # algebra and biology appears under algebra's progressions in the algebra class).
        shown = [p.id for p in self.framework.progressions.values()
                 if not target_ids or set(p.targets) & set(target_ids)]
        ready = []
        for student in students:
            for step in self._next_steps(student, finished_too=True):
                if step["progression_id"] in shown or step["progression_id"] not in \
                        self.framework.progressions:
                    ready.append({"student": self.student_view(student), **step})
        return {
            **self.common(section),
            "section": section,
            "courses": [self._course_head(self.framework.courses[c])
                        for c in self.section_courses(section, students)],
            "student_count": len(students),
            "groups": groups,
            "needs_help": self._needs_help(targets, students),
            "ready": ready,
            "legend": [self.scale_view(s) for s in self._scales_used(set(target_ids))],
        }

    def section_courses(self, section: str, students: Sequence[Mapping[str, Any]]) -> list[str]:
        """The courses a section is taught: those every student in it takes, narrowed to the
        ones the section's name mentions (``ALG1-P2`` is Algebra I) when there are several."""
        shared: set[str] | None = None
        for student in students:
            courses = set(self.student_courses(student))
            shared = courses if shared is None else shared & courses
        ordered = [c for c in self.framework.courses if c in (shared or set())]
        named = [c for c in ordered if c.lower() in section.lower()]
        return named or ordered

    def section_targets(self, section: str, students: Sequence[Mapping[str, Any]]) -> list[str]:
        """The targets of the section's courses; without course results, every target a
        student in the section has a result on."""
        wanted: set[str] = set()
        for course_id in self.section_courses(section, students):
            wanted.update(self.framework.course_targets(self.framework.courses[course_id]))
        if not wanted:
            wanted = {str(t["target"]) for s in students for t in s.get("targets") or []
                      if _status(t) != "not-assessed"}
        return [t for t in self.framework.targets if t in wanted]

    # -- helpers ------------------------------------------------------------------------------

    def _grid(self, targets: Sequence[Target], students: Sequence[Mapping[str, Any]],
              efficacy: bool) -> Context:
        rows: list[Context] = []
        scale = self.framework.target_scale(targets[0]) if targets else None
        counts: dict[str, dict[str, int]] = {t.id: {} for t in targets}
        for student in students:
            results = {str(t["target"]): t for t in student.get("targets") or []}
            cells = []
            for target in targets:
                result = results.get(target.id)
                status = _status(result)
                level = (self.level_view(self.framework.target_scale(target), result.get("level"))
                         if result and status == "ok" else None)
                key = level["text"] if level else status
                counts[target.id][key] = counts[target.id].get(key, 0) + 1
                cells.append({"target": target.id, "status": status, "level": level})
            rows.append({"student": self.student_view(student), "cells": cells})
        levels = self.scale_view(scale)["levels"] if scale else []
        count_rows = [
            {"level": lv, "counts": [counts[t.id].get(lv["text"], 0) for t in targets]}
            for lv in levels
        ]
        missing = [sum(n for k, n in counts[t.id].items() if k in STATUSES) for t in targets]
        return {
            "efficacy": efficacy,
            "targets": [{"id": t.id, "title": self.text(t.title) or self.text(t.statement)}
                        for t in targets],
            "rows": rows,
            "count_rows": count_rows,
            "no_level_counts": missing,
            "mastered_counts": [
                sum(1 for r in rows if r["cells"][i]["level"]
                    and r["cells"][i]["level"]["meets_goal"])
                for i in range(len(targets))
            ],
        }

    def _with_competencies(self, grid: Context, targets: Sequence[Target],
                           students: Sequence[Mapping[str, Any]]) -> Context:
        """``grid`` with a column per competency as well as per target: ``columns`` lists
        each competency (``competency``, its column ``index`` in each row's
        ``competency_cells`` and ``mastered_counts``) with the indexes of its targets in
        ``cells``; the grid's rows are ``students``, in order."""
        position = {t.id: i for i, t in enumerate(targets)}
        competencies = self._competencies_of(set(position))
        met = [0] * len(competencies)
        for row, student in zip(grid["rows"], students, strict=True):
            results = {str(c.get("competency")): c for c in student.get("competencies") or []}
            cells = []
            for index, competency in enumerate(competencies):
                result = results.get(competency.id)
                status = _status(result)
                level = (self.level_view(self.framework.scale_of(competency), result.get("level"))
                         if result and status == "ok" else None)
                met[index] += bool(level and level["meets_goal"])
                cells.append({"competency": competency.id, "status": status, "level": level})
            row["competency_cells"] = cells
        grid["columns"] = [
            {"competency": {"id": c.id, "title": self.text(c.title)}, "index": index,
             "targets": [position[t.id] for t in c.targets if t.id in position]}
            for index, c in enumerate(competencies)
        ]
        grid["competency_mastered_counts"] = met
        return grid

    def _needs_help(self, targets: Sequence[Target], students: Sequence[Mapping[str, Any]]
                    ) -> list[Context]:
        """Per target, the students with a level below the goal (in the students' order),
        academic targets before habits of work; targets nobody is below the goal on are left
        out."""
        found = []
        ordered = sorted(targets, key=lambda t: self.framework.competency_of(t).is_efficacy)
        results = [{str(t.get("target")): t for t in student.get("targets") or []}
                   for student in students]
        for target in ordered:
            scale = self.framework.target_scale(target)
            below = []
            for student, by_target in zip(students, results, strict=True):
                result = by_target.get(target.id)
                if result is None or _status(result) != "ok":
                    continue
                level = self.level_view(scale, result.get("level"))
                if level is not None and not level["meets_goal"]:
                    below.append({"student": self.student_view(student), "level": level})
            if below:
                found.append({
                    "id": target.id,
                    "title": self.text(target.title) or self.text(target.statement),
                    "efficacy": self.framework.competency_of(target).is_efficacy,
                    "students": below,
                })
        return found

    def course_head(self, course: Course) -> Context:
        return self._course_head(course)

    def course_grade_view(self, result: Mapping[str, Any] | None) -> Context:
        return self._course_grade(result)

    def _course_head(self, course: Course) -> Context:
        return {
            "id": course.id,
            "title": self.text(course.title),
            "type": course.type,
            "description": self.text(course.description),
        }

    def _course_grade(self, result: Mapping[str, Any] | None) -> Context:
        status = _status(result)
        grade = result.get("grade") if result else None
        return {
            "status": status,
            "text": "" if grade is None else str(grade) if not isinstance(grade, float)
            else self.number(grade),
            "score": self.number(result.get("score")) if result and status == "ok" else "",
            "rule": str(result.get("rule") or "") if result else "",
            "decided_by": self._decided_by(str(result.get("rule") or "")) if result else None,
            "level": self._grade_level(grade) if status == "ok" else None,
        }

    def _decided_by(self, rule_text: str) -> Context | None:
        """What decided a course grade, as data the template words in the report's language.

        grades.json carries the rule text in the policy's language and, in its policy header,
        every rule and conversion row with that same text; None when there is no match (the
        template then shows the text as it is).
        """
        policy = self.grades.get("policy") or {}
        for rule in policy.get("course_rules") or []:
            if rule.get("text") == rule_text:
                at_least = rule.get("at_least") or {}
                share = at_least.get("share")
                return {
                    "kind": "rule", "grade": str(rule.get("grade", "")),
                    "description": self.text(rule.get("description")),
                    "at_least_level": self._level_number(at_least.get("level")),
                    "at_least_count": at_least.get("count"),
                    "at_least_share": "" if share is None else format_percent(
                        float(share), locale=self.options.locale),
                    "none_below": self._level_number(rule.get("none_below")),
                    "min_score": self._level_number(rule.get("min_score")),
                }
        for row in policy.get("course_conversion") or []:
            if row.get("text") == rule_text:
                return {"kind": "conversion", "grade": str(row.get("grade", "")),
                        "minimum": self._level_number(row.get("minimum"))}
        if rule_text in ("no rule matched", "below every row of the conversion table"):
            return {"kind": "none"}
        return None

    def _level_number(self, value: object) -> str:
        if value is None:
            return ""
        return self.number(float(str(value)))

    def _grade_level(self, grade: object) -> Context | None:
        """A course grade that is a level of the academic scale, shown with its label."""
        scale = self.framework.default_scale
        try:
            value = float(str(grade))
        except ValueError:
            return None
        if scale is None or scale.level(value) is None:
            return None
        return self.level_view(scale, value)

    def _competencies_of(
        self, target_ids: set[str], course: Course | None = None
    ) -> list[Competency]:
        """The competencies covering ``target_ids``: academic before habits of work, in the
        order the course lists them, then in framework order (which follows file names)."""
        listed = {cid: i for i, cid in enumerate(course.competencies)} if course else {}
        found = [c for c in self.framework.competencies.values()
                 if any(t.id in target_ids for t in c.targets)]
        order = {c.id: i for i, c in enumerate(found)}
        return sorted(found, key=lambda c: (c.is_efficacy, listed.get(c.id, len(listed)),
                                            order[c.id]))

    def _scales_used(self, target_ids: set[str]) -> list[Scale]:
        seen: dict[str, Scale] = {}
        for competency in self._competencies_of(target_ids):
            scale = self.framework.scale_of(competency)
            if scale is not None:
                seen.setdefault(scale.id, scale)
        return sorted(seen.values(), key=lambda s: (s is not self.framework.default_scale, s.id))

    def _next_steps(self, student: Mapping[str, Any], *, finished_too: bool = False
                    ) -> list[Context]:
        """The student's next target in each progression. ``finished_too`` adds the
        progressions the student has finished (ready, no next target: ``finished``), which a
        class summary lists as ready to advance and a report card has no next step for."""
        steps = []
        for item in student.get("progress") or []:
            next_id = item.get("next_target")
            target = self.framework.targets.get(str(next_id)) if next_id else None
            progression_id = str(item.get("progression") or "")
            progression = self.framework.progressions.get(progression_id)
            ready = bool(item.get("ready_to_advance"))
            finished = target is None and not next_id and ready
            if target is None and not (finished and finished_too):
                continue
            steps.append({
                "progression": self.text(progression.title) if progression else "",
                "progression_id": progression_id,
                "target": target.id if target else "",
                "title": (self.text(target.title) or self.text(target.statement)) if target
                else "",
                "i_can": (self.text(target.i_can) or self.text(target.statement)) if target
                else "",
                "ready": ready,
                "finished": finished,
            })
        return steps


def framework_mismatch(grades: Mapping[str, Any], framework: Framework, source: str
                       ) -> Diagnostic | None:
    """Whether ``grades`` (a grades.json document read from ``source``) were made with
    ``framework``: an error when they name targets, competencies or progressions the framework
    does not have (its reports would show those results nowhere: empty report cards), a
    warning when only the framework's id differs, None when they match.

    Grading keeps only the framework's own ids (rows naming others are rejected), so grades
    made with this framework never name another; course ids are not checked, a gradebook's
    course column may name courses the framework does not list.
    """
    graded_with = grades.get("framework")
    kinds = (("targets", "target", framework.targets),
             ("competencies", "competency", framework.competencies),
             ("progress", "progression", framework.progressions))
    named: dict[str, bool] = {}  # id -> whether the framework knows it, in order
    for student in grades.get("students") or []:
        if not isinstance(student, Mapping):
            continue
        for key, field_name, known in kinds:
            for entry in student.get(key) or []:
                if isinstance(entry, Mapping) and field_name in entry:
                    named.setdefault(str(entry[field_name]), str(entry[field_name]) in known)
    other = graded_with not in (None, framework.id)
    unknown = sorted(i for i, known in named.items() if not known)
    if unknown:
        shown = ", ".join(unknown[:8]) + (f" and {len(unknown) - 8} more"
                                          if len(unknown) > 8 else "")
        made = (f"these grades were made with framework '{graded_with}', not "
                f"'{framework.id}'" if other else
                f"these grades do not fit framework '{framework.id}'")
        return error(
            "grades-framework-mismatch",
            f"{made}: {len(unknown)} of the {len(named)} target, competency and progression "
            f"ids they name are not in '{framework.id}': {shown}",
            source,
            hint="point --framework at the framework the grades were made with, or grade "
                 "again with this one (mastery grade ... --format json --out DIR)",
        )
    if other:
        return warning(
            "framework-mismatch",
            f"the grades were computed with framework '{graded_with}', not '{framework.id}'",
            source, hint="point --framework at the framework used to grade",
        )
    return None


def surname_key(name: str) -> tuple[str, str]:
    """How rosters sort a name: by surname, then given names, ignoring case and accents.
    "Patel, Mateo" has its surname first; "Mateo Patel" last."""
    import unicodedata

    def folded(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()

    if "," in name:
        surname, _, given = name.partition(",")
    else:
        given, _, surname = name.strip().rpartition(" ")
    return folded(surname), folded(given)


def _status(result: Mapping[str, Any] | None) -> str:
    if result is None:
        return "not-assessed"
    status = str(result.get("status") or STATUS_OK)
    return status if status in STATUSES else "no-result"


def missing_framework_text(framework: Framework, language: str) -> list[str]:
    """Which family-facing texts of ``framework`` are not written in ``language``.

    The same texts and the same test as ``mastery validate``'s missing-translation warnings.
    """
    default = framework.default_language
    if language == default:
        return []
    return [f"{item.owner} {item.name}" for item in family_texts(framework)
            if item.missing_languages([language], default)]


def _outside_source(source: object) -> str:
    """Where a piece of evidence was done when that was outside this school ("" when in it):
    not the school itself, and not the note a rubric-scored task leaves (`rubrics.evidence`)."""
    from mastery_cli.rubrics.evidence import SOURCE_PREFIX

    text = str(source or "").strip()
    if text.lower() in ("", "school") or text.startswith(SOURCE_PREFIX):
        return ""
    return text
