"""Rubric-scored performance tasks as evidence: one row per student × criterion becomes one
canonical evidence row on the criterion's target.

A rubric-scored file (a spreadsheet, a rubric-scored Canvas assignment export) has a
``criterion`` column (the criterion's id or title, in any of the rubric's languages) and a
rating instead of a target and a score. `convert_rubric_scores` writes it as a long gradebook:

- the target is the criterion's;
- the rating: a number is the level; a rated criterion's own level label ("Developing")
  is its level value; anything else (a scale label, EX, M, blank) is left for the gradebook
  reader, which knows the target's scale;
- the assessment is the file's, else the rubric's title;
- ``source`` keeps where the row came from: ``rubric <id>, criterion <id>: FILE:LINE`` (so
  ``explain`` can say which criterion a piece of evidence came from, see `criterion_note`).

Each record keeps its line (a row that cannot be converted is written blank, which the reader
skips, and reported here with its own file and line), so the reader's line numbers are the
original file's.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mastery_cli.diagnostics import Diagnostic, warning
from mastery_cli.framework.model import Criterion, Framework, Rubric, level_key
from mastery_cli.grading.formats import find_columns, fold
from mastery_cli.grading.ingest import TextColumns, read_text_columns
from mastery_cli.grading.rounding import format_decimal
from mastery_cli.grading.scorecells import CellKind, ScaleReader, interpret

CRITERION_NAMES = ("criterion", "criterion_id", "rubric_criterion", "criterion_title",
                   "rubric_row")
OUTPUT_COLUMNS = ("student_id", "student_name", "section", "course", "target", "assessment",
                  "type", "date", "score", "rater", "comment", "source", "criterion_weight")
SOURCE_PREFIX = "rubric "


@dataclass
class ConvertedFile:
    original: Path
    text: str
    rows: int
    diagnostics: list[Diagnostic]


def is_rubric_scored(table: TextColumns) -> bool:
    """A criterion column and no target column."""
    return table.index(CRITERION_NAMES) is not None and "target" not in find_columns(
        table.header)


def _criterion_index(rubrics: Sequence[Rubric]) -> dict[str, tuple[Rubric, Criterion]]:
    index: dict[str, tuple[Rubric, Criterion]] = {}
    for rubric in rubrics:
        for criterion in rubric.criteria:
            names = [criterion.id]
            title = criterion.title
            names += [title] if isinstance(title, str) else list((title or {}).values())
            for name in names:
                index.setdefault(fold(name), (rubric, criterion))
    return index


def _rating(criterion: Criterion, text: str) -> str:
    """The level value of a rated criterion's own label; other texts as they are."""
    wanted = fold(text)
    for level in criterion.levels:
        label = level.label
        names = [label] if isinstance(label, str) else list((label or {}).values())
        if any(fold(name) == wanted for name in names):
            return level_key(level.value)
    return text


def _rating_problem(framework: Framework, criterion: Criterion, rating: str, where: tuple[
        str, int, int]) -> Diagnostic | None:
    """A rating the target's scale cannot read, said at its place in the original file (the
    gradebook reader would name the converted file's column)."""
    target = framework.targets.get(criterion.target)
    scale = framework.target_scale(target) if target else None
    if scale is None:
        return None
    kind, value = interpret(rating, ScaleReader.of(scale), ".")
    labels = [str(label) for level in criterion.levels for label in (
        [level.label] if isinstance(level.label, str) else list((level.label or {}).values()))]
    expected = ", ".join(labels or ScaleReader.of(scale).shown)
    if kind is CellKind.NOT_A_SCORE:
        return warning("unknown-rating", f"rating '{rating}' is not a level of criterion "
                       f"'{criterion.id}': row not used", *where,
                       hint=f"use a level number ({level_key(scale.min_value)}-"
                            f"{level_key(scale.max_value)}) or a label: {expected}")
    if kind is CellKind.NUMBER and not scale.min_value <= value <= scale.max_value:
        return warning("rating-off-scale", f"rating {rating} is outside scale '{scale.id}' "
                       f"({level_key(scale.min_value)}-{level_key(scale.max_value)}): row "
                       "not used", *where, hint="check the rating, or the criterion")
    return None


def convert_rubric_scores(path: Path, table: TextColumns, rubrics: Sequence[Rubric],
                          framework: Framework) -> ConvertedFile:
    """The long gradebook text of the rubric-scored file ``path`` (read as ``table``)."""
    columns = find_columns(table.header)
    criterion_texts = table.column(CRITERION_NAMES) or []
    texts = {name: table.column_at(columns[name]) for name in OUTPUT_COLUMNS if name in columns}
    scores = texts.get("score")
    criteria = _criterion_index(rubrics)
    problems: list[Diagnostic] = []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    line_of_output = 1
    for record, line in enumerate(table.lines):
        while line_of_output + 1 < line:  # keep the original line numbers
            writer.writerow([""] * len(OUTPUT_COLUMNS))
            line_of_output += 1
        line_of_output += 1
        found = criteria.get(fold(criterion_texts[record]))
        if found is None:
            problems.append(warning(
                "unknown-criterion",
                f"criterion '{criterion_texts[record]}' is not in the rubric"
                + ("s" if len(rubrics) > 1 else "") + ": row not used",
                str(path), line, (table.index(CRITERION_NAMES) or 0) + 1,
                hint="criteria: " + ", ".join(c.id for r in rubrics for c in r.criteria),
            ))
            writer.writerow([""] * len(OUTPUT_COLUMNS))
            continue
        rubric, criterion = found

        def cell(name: str, record: int = record) -> str:
            values = texts.get(name)
            return values[record] if values is not None else ""

        rating = _rating(criterion, scores[record]) if scores is not None else ""
        problem = _rating_problem(framework, criterion, rating, (
            str(path), line, (columns.get("score") or 0) + 1))
        if problem is not None:
            problems.append(problem)
            writer.writerow([""] * len(OUTPUT_COLUMNS))
            continue
        assessment = cell("assessment") or _english(rubric.title)
        source = f"{SOURCE_PREFIX}{rubric.id}, criterion {criterion.id}: {path.name}:{line}"
        writer.writerow([cell("student_id"), cell("student_name"), cell("section"),
                         cell("course"), criterion.target, assessment, cell("type"),
                         cell("date"), rating, cell("rater"), cell("comment"), source,
                         format_decimal(criterion.weight, 6).rstrip("0").rstrip(".")])
    return ConvertedFile(path, buffer.getvalue(), len(table.lines), problems)


def _english(text: object) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, dict):
        return str(text.get("en") or next(iter(text.values()), ""))
    return ""


def criterion_note(source: str) -> str | None:
    """For ``explain``: "criterion design of rubric lab-report" when the evidence came from a
    rubric-scored row, else None."""
    if not source.startswith(SOURCE_PREFIX) or ", criterion " not in source:
        return None
    head = source[len(SOURCE_PREFIX):].split(": ", 1)[0]
    rubric, criterion = head.split(", criterion ", 1)
    return f"criterion {criterion} of rubric {rubric}"


@contextmanager
def rubric_evidence(files: Sequence[Path], rubrics: Sequence[Rubric], framework: Framework
                    ) -> Iterator[tuple[list[Path], list[Diagnostic]]]:
    """The files to grade: each rubric-scored file of ``files`` converted (in a temporary
    folder, removed afterwards), the others as they are; plus the conversion's problems."""
    folder = Path(tempfile.mkdtemp(prefix="mastery-rubric-"))
    try:
        paths: list[Path] = []
        problems: list[Diagnostic] = []
        for number, path in enumerate(files):
            table = read_text_columns(Path(path))
            if table is None or not is_rubric_scored(table):
                paths.append(Path(path))
                continue
            converted = convert_rubric_scores(Path(path), table, rubrics, framework)
            target = folder / str(number) / Path(path).name
            target.parent.mkdir()
            target.write_text(converted.text, encoding="utf-8")
            paths.append(target)
            problems += converted.diagnostics
        yield paths, problems
    finally:
        shutil.rmtree(folder, ignore_errors=True)
