"""The school's roster, for what a report card and a transcript carry besides grades.

An optional CSV (``mastery report --roster FILE``) with one row per student, or one row per
student and section as SIS enrollment exports have: student id, grade level, advisor, the
section and its teacher, days present and absent, date of birth. Headers are read as the
gradebook's are (``Student ID``, ``SIS ID``, ``Grade Level``, ``Homeroom Teacher``,
``Days Absent``, ``DOB``: normalised, with the aliases below); only the student id column is
required, and a column the file lacks leaves that line off the documents.

Values are shown as written (text, never HTML). A bad cell (``12 days``, a date that is no
date) is a warning naming its row and column, and the value is left off: a report card never
shows a guess. Rows of students without grades are reported once, as comments are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from mastery_cli import csvtext
from mastery_cli.diagnostics import Diagnostic, MasteryError, error, warning

#: Roster field -> header spellings accepted for it (after ``normalize_header``), in order.
#: The student id and the section take the gradebook's spellings first.
ALIASES: dict[str, tuple[str, ...]] = {
    "student_id": ("student_id", "id"),
    "grade_level": ("grade_level", "grade", "gradelevel", "grade_lvl", "current_grade",
                    "year_group", "year"),
    "advisor": ("advisor", "adviser", "advisor_name", "advisory_teacher", "homeroom_teacher",
                "homeroom", "advisory"),
    "section": ("section", "section_id", "course_section", "class_section"),
    "teacher": ("teacher", "section_teacher", "teacher_name", "instructor", "primary_teacher"),
    "days_present": ("days_present", "present", "days_attended", "present_days",
                     "attendance_present"),
    "days_absent": ("days_absent", "absent", "absences", "absent_days", "days_missed",
                    "total_absences"),
    "date_of_birth": ("date_of_birth", "dob", "birth_date", "birthdate", "birthday"),
}
STUDENT_FIELDS = ("grade_level", "advisor", "days_present", "days_absent", "date_of_birth")
COLUMNS_HINT = ("columns: student_id and any of grade_level, advisor, section, teacher, "
                "days_present, days_absent, date_of_birth")


@dataclass
class RosterEntry:
    """What the roster says about one student; "" or None where it says nothing."""

    grade_level: str = ""
    advisor: str = ""
    #: Section -> its teacher, in file order.
    teachers: dict[str, str] = field(default_factory=dict)
    days_present: Decimal | None = None
    days_absent: Decimal | None = None
    date_of_birth: date | None = None


@dataclass
class Roster:
    entries: dict[str, RosterEntry] = field(default_factory=dict)

    def get(self, student_id: str) -> RosterEntry | None:
        return self.entries.get(student_id)


def find_roster_columns(header: Iterable[str]) -> dict[str, int]:
    """Roster field -> column index, by the gradebook's spellings (``Student Number``, ``SIS
    ID``; ``Section``) and then the aliases above."""
    from mastery_cli.grading.formats import ALIASES as GRADEBOOK
    from mastery_cli.grading.formats import normalize_header

    normalized = [normalize_header(h) for h in header]
    found: dict[str, int] = {}
    for name, aliases in ALIASES.items():
        for alias in dict.fromkeys((*GRADEBOOK.get(name, ()), *aliases)):
            if alias in normalized and normalized.index(alias) not in found.values():
                found[name] = normalized.index(alias)
                break
    return found


def parse_birth_date(text: str) -> date | None:
    """2011-04-02, 04/02/2011 (US order, as SIS exports in the US write it) or None."""
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _days(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def read_roster(path: Path, student_ids: Iterable[str] | None = None
                ) -> tuple[Roster, list[Diagnostic]]:
    """Read ``path``: the roster and the warnings about its cells and rows."""
    shown = str(path)
    text = csvtext.read_side_file(path, "the roster", "--roster", COLUMNS_HINT)
    reader = csvtext.reader(text)
    header = next(reader, None)
    if header is None:
        return Roster(), []
    columns = find_roster_columns(header)
    if "student_id" not in columns:
        raise MasteryError(error(
            "missing-column", "the roster has no student id column", shown, 1,
            hint=COLUMNS_HINT,
        ))
    known = set(student_ids) if student_ids is not None else None
    roster = Roster()
    problems: list[Diagnostic] = []
    unknown: dict[str, int] = {}
    record_end = reader.line_num
    for row in reader:
        line, record_end = record_end + 1, reader.line_num
        cells = {name: (row[i].strip() if i < len(row) else "") for name, i in columns.items()}
        student_id = cells["student_id"]
        if not student_id:
            continue
        if known is not None and student_id not in known:
            unknown.setdefault(student_id, line)
            continue
        entry = roster.entries.setdefault(student_id, RosterEntry())

        def bad(name: str, what: str, hint: str, cells: dict[str, str] = cells,
                line: int = line) -> None:
            problems.append(warning(
                "bad-roster-cell", f"{what}: {cells[name]!r}; left off the documents", shown,
                line, columns[name] + 1, hint=hint, pointer=header[columns[name]].strip()))

        if cells.get("grade_level") and not entry.grade_level:
            entry.grade_level = cells["grade_level"]
        if cells.get("advisor") and not entry.advisor:
            entry.advisor = cells["advisor"]
        if cells.get("section") and cells.get("teacher"):
            entry.teachers.setdefault(cells["section"], cells["teacher"])
        for name in ("days_present", "days_absent"):
            if cells.get(name) and getattr(entry, name) is None:
                days = _days(cells[name])
                if days is None:
                    bad(name, "not a number of days", "write a number such as 84 or 2.5")
                else:
                    setattr(entry, name, days)
        if cells.get("date_of_birth") and entry.date_of_birth is None:
            born = parse_birth_date(cells["date_of_birth"])
            if born is None:
                bad("date_of_birth", "not a date", "write it as 2011-04-02 or 04/02/2011")
            else:
                entry.date_of_birth = born
    if unknown:
        shown_ids = ", ".join(list(unknown)[:5]) + (
            f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        first = min(unknown.values())
        problems.append(warning(
            "unknown-student", f"{len(unknown)} roster student(s) have no grades and get no "
            f"documents: {shown_ids}", shown, first, columns["student_id"] + 1,
            hint="a spreadsheet drops the leading zeros of ids it reads as numbers: format the "
                 "id column as text", pointer=header[columns["student_id"]].strip()))
    return roster, problems

