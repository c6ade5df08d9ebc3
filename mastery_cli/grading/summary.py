"""What a grade run tells on the terminal: counts, results made, reasons rows were not used,
and the levels reached per competency.

Counted on the result's tables with numpy: the DataFrames (``result.targets``...) would import
pandas and convert every table, which costs more than grading does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mastery_cli.grading.distinct import sorted_distinct
from mastery_cli.grading.table import Table, text_codes

if TYPE_CHECKING:
    from mastery_cli.grading.engine.run import RunTally
    from mastery_cli.grading.pipeline import GradeCounts, GradeResult


@dataclass(frozen=True)
class LevelRow:
    """One competency: how many results reached each level (of `RunSummary.levels`), and
    how many are not "ok"."""

    competency: str
    counts: tuple[int, ...]
    no_result: int


@dataclass(frozen=True)
class RunSummary:
    counts: GradeCounts
    students: int
    target_results: int
    competency_results: int
    course_grades: int
    #: (reason, rows) of the rows not used, in reason order.
    not_used: tuple[tuple[str, int], ...]
    #: The levels reached, ascending; a `LevelRow` per competency, in id order.
    levels: tuple[float, ...]
    level_rows: tuple[LevelRow, ...]

    @classmethod
    def of_run(cls, counts: GradeCounts, tally: RunTally) -> RunSummary:
        """The summary of an engine run, from what its batches added up."""
        return _of_run(counts, tally)

    @classmethod
    def of(cls, result: GradeResult) -> RunSummary:
        tables = result.tables
        levels, rows = level_counts(tables.competencies)
        return cls(
            counts=result.counts,
            students=distinct_count(tables.targets, "student_id"),
            target_results=len(tables.targets),
            competency_results=len(tables.competencies),
            course_grades=len(tables.courses),
            not_used=tuple(text_tally([tables.set_aside, tables.rejects], "reason")),
            levels=tuple(levels),
            level_rows=tuple(rows),
        )


def _of_run(counts: GradeCounts, tally: RunTally) -> RunSummary:
    levels = sorted({level for reached in tally.levels.values() for level in reached})
    rows = tuple(LevelRow(competency, tuple(tally.levels[competency].get(v, 0) for v in levels),
                          tally.no_result.get(competency, 0))
                 for competency in sorted(tally.levels))
    return RunSummary(
        counts=counts, students=tally.students, target_results=tally.target_results,
        competency_results=tally.competency_results, course_grades=tally.course_grades,
        not_used=tuple(sorted((r, n) for r, n in tally.not_used.items() if n)),
        levels=tuple(levels), level_rows=rows)


def distinct_count(table: Table, name: str) -> int:
    """How many different texts ``name`` holds (a missing value counts as "")."""
    if not len(table):
        return 0
    codes, _ = text_codes(table.coded(name))
    return int(sorted_distinct(codes).size)


def text_tally(tables: Sequence[Table], name: str) -> list[tuple[str, int]]:
    """(text, rows) of column ``name`` over ``tables``, in text order, texts present only."""
    tally: dict[str, int] = {}
    for table in tables:
        if not len(table):
            continue
        codes, texts = text_codes(table.coded(name))
        counts = np.bincount(codes, minlength=len(texts)).tolist()
        for text, count in zip(texts, counts, strict=True):
            if count:
                tally[text] = tally.get(text, 0) + count
    return sorted(tally.items())


def level_counts(competencies: Table) -> tuple[list[float], list[LevelRow]]:
    """The levels reached, and per competency (in id order) the count of each level and of
    results that are not "ok"."""
    if not len(competencies):
        return [], []
    level = np.asarray(competencies.array("level"), dtype=np.float64)
    known = ~np.isnan(level)
    levels = sorted_distinct(level[known])
    ids, texts = text_codes(competencies.coded("competency"))
    present = sorted_distinct(ids)
    row_of = np.searchsorted(present, ids)
    width = len(levels) + 1  # the last cell counts the results that are not "ok"
    cells = np.zeros((len(present), width), dtype=np.int64)
    np.add.at(cells, (row_of[known], np.searchsorted(levels, level[known])), 1)
    not_ok = ~competencies.coded("status").equals_text("ok")
    cells[:, -1] = np.bincount(row_of[not_ok], minlength=len(present))
    rows = [LevelRow(texts[code], tuple(counts[:-1]), counts[-1])
            for code, counts in zip(present.tolist(), cells.tolist(), strict=True)]
    return levels.tolist(), rows
