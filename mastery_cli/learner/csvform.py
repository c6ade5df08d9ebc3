"""The bulk form of learner records: one CSV, one row per profile entry, goal, review or piece.

Advisors often collect plans in a spreadsheet or a form; this reads its export. Columns
(a header row, any order; only ``student_id`` and ``record`` are required):

``student_id, record, goal, arena, text, targets, competencies, set_on, date, by, artifact,
source``

``record`` says what the row is: ``name``, ``preferred_name``, ``language``, ``interest``,
``strength``, ``support``, ``in_my_words`` (``text``, optionally ``date``); ``goal`` (``goal``
is its id, ``text`` the statement, ``date`` the target date); ``review`` (of the goal named in
``goal``: ``date``, ``by``, ``text`` the note); ``portfolio`` (``text`` the title, ``artifact``,
``targets``, ``date``, ``source``). Ids in ``targets``/``competencies`` are separated by ``;``.
Each student's rows become the same record a YAML file holds, checked by the same schema and
rules, with problems reported at the row and column they came from.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from mastery_cli.diagnostics import Diagnostic, Severity, error
from mastery_cli.learner.check import Locate
from mastery_cli.yamlfile import Pointer

COLUMNS = ("student_id", "record", "goal", "arena", "text", "targets", "competencies",
           "set_on", "date", "by", "artifact", "source")
_LISTS = {"language": "languages", "interest": "interests", "strength": "strengths",
          "support": "supports"}
RECORDS = ("name", "preferred_name", *_LISTS, "in_my_words", "goal", "review", "portfolio")


@dataclass
class CsvRecord:
    """One student's record built from rows, and where each of its values came from."""

    data: dict[str, Any]
    path: str
    #: pointer → (line, column name) of the cell it came from.
    places: dict[Pointer, tuple[int, str]] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)

    def locate(self) -> Locate:
        def at(code: str, message: str, pointer: Pointer, hint: str | None,
               severity: Severity) -> Diagnostic:
            for length in range(len(pointer), -1, -1):
                place = self.places.get(tuple(pointer[:length]))
                if place is not None:
                    line, name = place
                    column = self.header.index(name) + 1 if name in self.header else None
                    return Diagnostic(self.path, line, column, code, message, severity, hint,
                                      name)
            return Diagnostic(self.path, None, None, code, message, severity, hint)
        return at


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def _entry(text: str, day: str) -> Any:
    return {"text": text, "date": day} if day else text


def read_learner_csv(text: str, path: str) -> tuple[list[CsvRecord], list[Diagnostic]]:
    """The records in a bulk learner CSV (in first-row order), and the rows it could not use."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = [h.strip().lower() for h in next(rows, [])]
    missing = [c for c in ("student_id", "record") if c not in header]
    if missing:
        return [], [error("learner-csv-columns", "a bulk learner CSV needs the columns "
                          + " and ".join(missing), path, 1, 1,
                          hint="columns: " + ", ".join(COLUMNS))]
    problems: list[Diagnostic] = []
    unknown = [h for h in header if h not in COLUMNS]
    for name in unknown:
        problems.append(Diagnostic(path, 1, header.index(name) + 1, "learner-csv-unknown-column",
                                   f"column '{name}' is not a learner column and is ignored",
                                   Severity.WARNING, "columns: " + ", ".join(COLUMNS), name))
    records: dict[str, CsvRecord] = {}
    for number, cells in enumerate(rows, start=2):
        row = {name: (cells[i].strip() if i < len(cells) else "") for i, name in
               enumerate(header)}
        if not any(row.values()):
            continue
        student, kind = row.get("student_id", ""), row.get("record", "").lower()
        if not student:
            problems.append(_cell(path, header, number, "student_id", "learner-csv-no-student",
                                  "the row has no student_id"))
            continue
        if kind not in RECORDS:
            problems.append(_cell(path, header, number, "record", "learner-csv-record",
                                  "unknown record kind" if kind else "the row has no record",
                                  "one of: " + ", ".join(RECORDS)))
            continue
        record = records.get(student)
        if record is None:
            record = records[student] = CsvRecord(
                {"kind": "learner", "schema_version": 1, "student_id": student}, path,
                {(): (number, "student_id"), ("student_id",): (number, "student_id")}, header)
        problem = _add(record, kind, row, number)
        if problem is not None:
            problems.append(_cell(path, header, number, "goal", *problem))
    return list(records.values()), problems


def _cell(path: str, header: list[str], line: int, name: str, code: str, message: str,
          hint: str | None = None) -> Diagnostic:
    column = header.index(name) + 1 if name in header else None
    return Diagnostic(path, line, column, code, message, Severity.ERROR, hint, name)


def _add(record: CsvRecord, kind: str, row: dict[str, str], line: int
         ) -> tuple[str, str, str] | None:
    data, places = record.data, record.places
    text, day = row.get("text", ""), row.get("date", "")
    profile = data.setdefault("profile", {})
    if kind == "name":
        data["name"] = text
        places[("name",)] = (line, "text")
    elif kind in ("preferred_name", "in_my_words"):
        profile[kind] = text
        places[("profile", kind)] = (line, "text")
    elif kind in _LISTS:
        items = profile.setdefault(_LISTS[kind], [])
        places[("profile", _LISTS[kind], len(items))] = (line, "text")
        places[("profile", _LISTS[kind], len(items), "date")] = (line, "date")
        items.append(_entry(text, day))
    elif kind == "goal":
        goals = data.setdefault("plan", {}).setdefault("goals", [])
        goal: dict[str, Any] = {"id": row.get("goal", ""), "arena": row.get("arena", ""),
                                "statement": text}
        for name in ("targets", "competencies"):
            if _ids(row.get(name, "")):
                goal[name] = _ids(row.get(name, ""))
        if row.get("set_on"):
            goal["set_on"] = row["set_on"]
        if day:
            goal["target_date"] = day
        here: Pointer = ("plan", "goals", len(goals))
        places[here] = (line, "goal")
        for key, column in (("id", "goal"), ("arena", "arena"), ("statement", "text"),
                            ("targets", "targets"), ("competencies", "competencies"),
                            ("set_on", "set_on"), ("target_date", "date")):
            places[(*here, key)] = (line, column)
        goals.append(goal)
    elif kind == "review":
        goals = data.get("plan", {}).get("goals", [])
        index = next((i for i, g in enumerate(goals) if g.get("id") == row.get("goal")), None)
        if index is None:
            return ("learner-csv-review-goal", "a review of a goal not given in an earlier row",
                    "add the goal's row (record 'goal') above its reviews")
        reviews = goals[index].setdefault("reviews", [])
        here = ("plan", "goals", index, "reviews", len(reviews))
        places[here] = (line, "goal")
        for key, column in (("date", "date"), ("by", "by"), ("note", "text")):
            places[(*here, key)] = (line, column)
        reviews.append({"date": day, "by": row.get("by", ""),
                        **({"note": text} if text else {})})
    else:  # portfolio
        pieces = data.setdefault("portfolio", [])
        piece: dict[str, Any] = {"title": text}
        for key in ("artifact", "date", "source"):
            if row.get(key):
                piece[key] = row[key]
        if _ids(row.get("targets", "")):
            piece["targets"] = _ids(row["targets"])
        here = ("portfolio", len(pieces))
        places[here] = (line, "text")
        for key, column in (("title", "text"), ("artifact", "artifact"), ("targets", "targets"),
                            ("date", "date"), ("source", "source")):
            places[(*here, key)] = (line, column)
        pieces.append(piece)
    return None
