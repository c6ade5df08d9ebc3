"""Teacher comments for report cards, from a small CSV.

Columns: ``student_id``, ``comment`` and, optionally, ``about`` (also accepted: ``target``,
``competency`` or ``course``): the target, competency or course the comment belongs to. A row
without one is a general comment on the student. Headers are read as the gradebook's are
(``Student ID``, ``SIS ID``, ``Notes``, ``Standard``: the same alias table). Comments are shown
as written, as text (never HTML), in file order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mastery_cli import csvtext
from mastery_cli.diagnostics import Diagnostic, MasteryError, error, warning

COLUMNS_HINT = (
    "columns: student_id, about (a target, competency or course id; optional), comment"
)


@dataclass
class Comments:
    """Comments per student: general ones, and per target/competency/course id."""

    general: dict[str, list[str]] = field(default_factory=dict)
    about: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def for_student(self, student_id: str) -> list[str]:
        return self.general.get(student_id, [])

    def for_item(self, student_id: str, item_id: str) -> list[str]:
        return self.about.get((student_id, item_id), [])


def read_comments(
    path: Path, known_ids: Iterable[str], student_ids: Iterable[str] | None = None
) -> tuple[Comments, list[Diagnostic]]:
    """Read ``path``; rows naming an unknown target/competency/course become warnings, and so
    do rows of a student not in ``student_ids`` (when given): no report would show them."""
    # (here: the gradebook reader is not needed to render reports without comments)
    from mastery_cli.grading.formats import find_columns, normalize_header

    known = set(known_ids)
    students = set(student_ids) if student_ids is not None else None
    shown = str(path)
    text = csvtext.read_side_file(path, "the comments file", "--comments",
                                  "its columns are student_id, about and comment")
    reader = csvtext.reader(text)
    first = next(reader, None)
    if first is None:
        return Comments(), []
    header = [normalize_header(cell) for cell in first]
    columns = find_columns(first)
    missing = [name for name in ("student_id", "comment") if name not in columns]
    if missing:
        raise MasteryError(error(
            "missing-column", f"the comments file has no column {', '.join(missing)}", shown, 1,
            hint=COLUMNS_HINT,
        ))
    id_col = columns["student_id"]
    comment_col = columns["comment"]
    # "about" first; then the gradebook's target aliases (target, competency, standard...),
    # then course.
    about_col = header.index("about") if "about" in header else (
        columns.get("target", columns.get("course")))
    comments = Comments()
    problems: list[Diagnostic] = []
    record_end = reader.line_num
    for row in reader:
        # A quoted comment may span lines: report the line the record starts on.
        line, record_end = record_end + 1, reader.line_num
        cells = row + [""] * (len(header) - len(row))
        student_id = cells[id_col].strip()
        comment = cells[comment_col].strip()
        if not student_id or not comment:
            continue
        if students is not None and student_id not in students:
            problems.append(_unknown_student(student_id, students, shown, line, id_col,
                                             first[id_col]))
            continue
        about = cells[about_col].strip() if about_col is not None else ""
        if not about:
            comments.general.setdefault(student_id, []).append(comment)
        elif about in known:
            comments.about.setdefault((student_id, about), []).append(comment)
        elif about_col is not None:
            problems.append(warning(
                "unknown-reference", f"comment about '{about}', which is not a target, "
                "competency or course of the framework; shown as a general comment", shown,
                line, about_col + 1, pointer=first[about_col].strip(),
            ))
            comments.general.setdefault(student_id, []).append(comment)
    return comments, problems


def _unknown_student(
    student_id: str, students: set[str], shown: str, line: int, column: int, header: str
) -> Diagnostic:
    """A comment no report shows: its student has no grades. An id that lost its leading
    zeros in a spreadsheet is named with the id it stands for."""
    from mastery_cli.validation.rules import did_you_mean

    stripped = student_id.lstrip("0")
    same_digits = sorted(s for s in students if stripped and s.lstrip("0") == stripped)
    if same_digits:
        hint = (f"did you mean '{same_digits[0]}'? A spreadsheet drops the leading zeros of "
                "ids it reads as numbers: format the id column as text")
    else:
        hint = did_you_mean(student_id, students) or "use the student ids of the gradebook"
    return warning(
        "unknown-student", f"comment for student '{student_id}', who has no grades; "
        "not shown on any report", shown, line, column + 1, hint=hint, pointer=header.strip(),
    )
