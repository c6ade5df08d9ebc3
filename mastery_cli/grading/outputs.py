"""Writing grade results: CSV files and ``grades.json`` (built in `json_output`), deterministic
to the byte.

Rows are sorted by student id, then ids; numbers are plain decimals rounded half away from
zero to the policy's places (:func:`rounding.format_decimal` semantics); dates are ISO
(YYYY-MM-DD); text cells that a spreadsheet would run as a formula are neutralised; every file
is written atomically.

Each column is made into the texts of its cells by `cells.column_cells` (each distinct value
formatted once); each distinct text is quoted as Python's csv module quotes it, and the rows
are joined a chunk at a time, so a file is written as it comes. Neither pandas nor
pyarrow.compute is imported.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mastery_cli.grading.cells import (
    KEPT_TEXTS,
    Cells,
    column_cells,
    decimal_cells,
    objects,
)
from mastery_cli.grading.table import Table
from mastery_cli.output import OutputFolder, write_chunks_atomic

if TYPE_CHECKING:
    import pandas as pd

    from mastery_cli.grading.json_output import (
        GRADES_VERSION,
        JSON_FILE,
        grades_document,
        grades_json,
        grades_json_bytes,
        grades_json_chunks,
    )
    from mastery_cli.grading.pipeline import GradeResult

__all__ = [
    "CSV_FILES",
    "GRADES_VERSION",
    "JSON_FILE",
    "csv_bytes",
    "csv_chunks",
    "csv_text",
    "decimals",
    "grades_document",
    "grades_json",
    "grades_json_bytes",
    "grades_json_chunks",
    "result_file_names",
    "write_outputs",
]

CSV_FILES = ("target_grades.csv", "competency_grades.csv", "course_grades.csv", "progress.csv",
             "rejects.csv")

#: Names re-exported from `json_output`, which imports pandas: loaded on first use only.
_JSON_NAMES = frozenset({"GRADES_VERSION", "JSON_FILE", "grades_document", "grades_json",
                         "grades_json_bytes", "grades_json_chunks"})


def __getattr__(name: str) -> Any:
    if name in _JSON_NAMES:
        from mastery_cli.grading import json_output

        return getattr(json_output, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Rows made into text at a time: a file is written as it comes, in chunks of a few MB.
_CHUNK_ROWS = 1 << 15


def _table(table: Table | pd.DataFrame) -> Table:
    if isinstance(table, Table):
        return table
    return Table.from_pandas(table)


def csv_bytes(table: Table | pd.DataFrame, columns: list[str], places: int) -> bytes:
    """The table as UTF-8 CSV with plain, safe cells (`cells.column_cells`), in ``columns``
    order (missing columns empty): the bytes Python's csv module writes (``\\n`` line ends,
    quotes only where needed). A DataFrame is read as `Table.from_pandas` reads it."""
    return b"".join(csv_chunks(_table(table), columns, places))


def csv_chunks(table: Table, columns: list[str], places: int) -> Iterator[bytes]:
    """`csv_bytes` in pieces: first the header line, then the rows in one or more chunks (a
    run writing a file batch by batch writes the header once).

    Each column's distinct cells are quoted once, as the csv module quotes them, and written
    with what follows them in a row: a comma, or the line end after the last column. A chunk
    of rows is then its cells, row after row, joined.
    """
    lone = len(columns) == 1  # the csv module writes a lone empty cell as ""
    yield (",".join(_quoted(name, lone) for name in columns) + "\n").encode("utf-8")
    rows = len(table)
    if not columns:
        yield b"\n" * rows
        return
    cells = [column_cells(table[name], name, places) if name in table
             else Cells([], np.full(rows, -1, dtype=np.intp))  # missing: empty cells
             for name in columns]
    ends = [","] * (len(columns) - 1) + ["\n"]
    followed = [_followed(tuple(column.texts), lone, end)
                for column, end in zip(cells, ends, strict=True)]
    for start in range(0, rows, _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, rows)
        grid = np.empty((stop - start, len(columns)), dtype=object)
        for at, (texts, column) in enumerate(zip(followed, cells, strict=True)):
            grid[:, at] = texts[column.codes[start:stop]]  # code -1 reads the last: ""
        yield "".join(grid.ravel().tolist()).encode("latin-1")


def _followed(texts: tuple[str, ...], lone: bool, end: str) -> npt.NDArray[np.object_]:
    """The texts, then "", as CSV cells followed by ``end``: their UTF-8 bytes, held as
    Latin-1 text (one character per byte). CPython joins such text three times as fast as
    bytes, and encodes it back to the same bytes in a copy (text holding any character past
    U+00FF is two or four bytes a character: slow to join and to encode)."""
    if len(texts) in KEPT_TEXTS:
        return _kept_followed(texts, lone, end)
    return _made_followed(texts, lone, end)


def _made_followed(texts: tuple[str, ...], lone: bool, end: str) -> npt.NDArray[np.object_]:
    quoted = _quoted
    needs_quotes = _MAY_NEED_QUOTES.search
    cells = [quoted(text, lone) + end if lone or needs_quotes(text) else text + end
             for text in texts]
    cells.append(quoted("", lone) + end)
    made = objects([cell if cell.isascii() else cell.encode("utf-8").decode("latin-1")
                    for cell in cells])
    made.flags.writeable = False  # may be shared by the next file
    return made


_kept_followed = functools.lru_cache(maxsize=8)(_made_followed)


#: Characters the csv module may quote a cell for (QUOTE_MINIMAL): the delimiter, the quote
#: and the line end always; a carriage return depends on the Python version.
_MAY_NEED_QUOTES = re.compile('[,"\r\n]')


def _quoted(text: str, lone: bool) -> str:
    """``text`` as the csv module writes it as a cell of a row of several (or alone in its
    row: ``lone``). The module itself is asked about a lone cell and a text with a carriage
    return; a cell with the delimiter, a quote or a line break it always quotes, doubling the
    quotes inside."""
    if lone or "\r" in text:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([text])
        return buffer.getvalue()[:-1]
    if _MAY_NEED_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(table: Table | pd.DataFrame, columns: list[str], places: int) -> str:
    """The table as CSV text with plain, safe cells, in ``columns`` order."""
    return csv_bytes(table, columns, places).decode("utf-8")


def decimals(values: npt.ArrayLike, places: int) -> npt.NDArray[np.object_]:
    """Plain decimal text for a column: half away from zero, fixed places, "" for NaN."""
    return decimal_cells(np.asarray(values, dtype=np.float64), places).values()


# --------------------------------------------------------------------------------------------
# Result files
# --------------------------------------------------------------------------------------------


#: rejects.csv: where each row was, whose it was (the student id; "" when the row names none,
#: or the part of the run that set it aside does not say) and why it was not used.
REJECTS_CSV_COLUMNS = ["file", "row", "student_id", "column", "value", "reason", "message"]


def result_file_names(*, json_too: bool = False) -> list[str]:
    """The names of the files a grade run writes into its output folder."""
    # grades.json by name: importing json_output imports pandas, which a CSV run never needs.
    return [*CSV_FILES, *(["grades.json"] if json_too else [])]


def write_outputs(result: GradeResult, out: Path, *, json_too: bool = False) -> list[Path]:
    """Write the CSV files (and grades.json) of a graded result into ``out``, all together
    (`OutputFolder`), through the one writer of every run (`engine.sink.ResultSink`); returns
    the paths written."""
    from mastery_cli.grading.engine.sink import ResultSink

    with OutputFolder(out, names=result_file_names(json_too=json_too)) as folder:
        sink = ResultSink(folder.staging, result.policy.places)
        try:
            sink.add_unused(result.tables.rejects, origin=0)
            sink.add(result.tables)
            sink.finish()
        finally:
            sink.close()
        if json_too:
            from mastery_cli.grading.json_output import JSON_FILE, grades_json_chunks

            write_chunks_atomic(folder.staging / JSON_FILE, grades_json_chunks(result))
        return folder.commit()
