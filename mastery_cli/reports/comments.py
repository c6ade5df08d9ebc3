"""Teacher comments for report cards, from a small CSV.

Columns: ``student_id``, ``comment`` and, optionally, ``about`` (also accepted: ``target``,
``competency`` or ``course``): the target, competency or course the comment belongs to. A row
without one is a general comment on the student. Comments are shown as written, as text
(never HTML), in file order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mastery_cli.diagnostics import Diagnostic, MasteryError, error, warning

ABOUT_COLUMNS = ("about", "target", "competency", "course")


@dataclass
class Comments:
    """Comments per student: general ones, and per target/competency/course id."""

    general: dict[str, list[str]] = field(default_factory=dict)
    about: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def for_student(self, student_id: str) -> list[str]:
        return self.general.get(student_id, [])

    def for_item(self, student_id: str, item_id: str) -> list[str]:
        return self.about.get((student_id, item_id), [])


def read_comments(path: Path, known_ids: Iterable[str]) -> tuple[Comments, list[Diagnostic]]:
    """Read ``path``; rows naming an unknown target/competency/course become warnings."""
    known = set(known_ids)
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MasteryError(error(
            "unreadable-file", f"cannot read the comments file: {exc}", shown,
            hint="save it as UTF-8 CSV with columns student_id, about, comment",
        )) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    first = next(reader, None)
    if first is None:
        return Comments(), []
    header = [cell.strip().lower() for cell in first]
    missing = [name for name in ("student_id", "comment") if name not in header]
    if missing:
        raise MasteryError(error(
            "missing-column", f"the comments file has no column {', '.join(missing)}", shown, 1,
            hint="columns: student_id, about (a target, competency or course id; optional), "
                 "comment",
        ))
    id_col = header.index("student_id")
    comment_col = header.index("comment")
    about_col = next((header.index(name) for name in ABOUT_COLUMNS if name in header), None)
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
        about = cells[about_col].strip() if about_col is not None else ""
        if not about:
            comments.general.setdefault(student_id, []).append(comment)
        elif about in known:
            comments.about.setdefault((student_id, about), []).append(comment)
        elif about_col is not None:
            problems.append(warning(
                "unknown-reference", f"comment about '{about}', which is not a target, "
                "competency or course of the framework; shown as a general comment", shown,
                line, about_col + 1, pointer=header[about_col],
            ))
            comments.general.setdefault(student_id, []).append(comment)
    return comments, problems
