"""Several terms of grades for one transcript: each term's grades.json, named and in order.

A school grades each term on its own (``mastery grade ... --out fall/``); a transcript reads
them all (``mastery report transcript --grades fall/ --grades spring/``, or ``--grades terms/``
holding one folder per term). A term is named by its folder (``fall``), or explicitly with
``--grades "Fall 2026=fall/"``; terms are put in the order their evidence starts, so the order
the folders are given in does not matter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Term:
    """One term's grades: its name as the transcript shows it, and its grades.json."""

    label: str
    grades: Mapping[str, Any]
    source: str = ""


def first_evidence_date(grades: Mapping[str, Any]) -> str:
    """The earliest evidence date (ISO text) in a grades.json, "" when none has a date."""
    earliest = ""
    for student in grades.get("students") or []:
        for target in (student.get("targets") or []) if isinstance(student, Mapping) else []:
            for piece in (target.get("evidence") or []) if isinstance(target, Mapping) else []:
                when = str(piece.get("date") or "")[:10] if isinstance(piece, Mapping) else ""
                if when and (not earliest or when < earliest):
                    earliest = when
    return earliest


def ordered_terms(terms: Sequence[Term]) -> list[Term]:
    """The terms from the earliest to the latest by their first evidence date; terms without
    dated evidence keep their place after the dated ones, in the order given."""
    dated = [(first_evidence_date(t.grades), i, t) for i, t in enumerate(terms)]
    return [t for _, _, t in sorted(dated, key=lambda d: (d[0] == "", d[0], d[1]))]


def merged_grades(terms: Sequence[Term]) -> dict[str, Any]:
    """One grades.json for the report's student list: the latest term's document, with every
    student of any term (a student's latest record: name and sections as they are now).

    The courses of each term are read from the terms themselves, never from this document.
    """
    latest = terms[-1].grades
    students: dict[str, Mapping[str, Any]] = {}
    for term in terms:
        for student in term.grades.get("students") or []:
            if isinstance(student, Mapping) and "id" in student:
                students[str(student["id"])] = student
    return {**latest, "students": list(students.values())}
