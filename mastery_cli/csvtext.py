"""Reading CSV text with the csv module, without its 131,072-character field limit.

The csv module stops at a field longer than 131,072 characters ("field larger than field
limit"), and a teacher's comment of a megabyte or a long Moodle description is still a field of
the file: every CSV reader of mastery goes through `reader` or `dict_reader`, which lift the
limit. The whole file is in memory already, so a long field costs nothing the file did not.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _csv import Reader

#: The csv module's limit is one setting for the whole process, stored in a C long (32 bits on
#: Windows).
FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


def reader(text: str, delimiter: str = ",") -> Reader:
    """The records of ``text`` (a whole file, or one line of it), however long their fields."""
    csv.field_size_limit(FIELD_LIMIT)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def dict_reader(text: str) -> csv.DictReader[str]:
    """The records of ``text`` as dictionaries keyed by the header, however long their fields."""
    csv.field_size_limit(FIELD_LIMIT)
    return csv.DictReader(io.StringIO(text, newline=""))


def read_side_file(path: Path, what: str, option: str, columns_hint: str) -> str:
    """The text of a small CSV given beside the gradebook (``--comments``, ``--roster``):
    UTF-8 with or without a BOM, a regular file. Anything else is a MasteryError naming the
    file: ``what`` ("the roster") says which, ``option`` where it was given, and
    ``columns_hint`` what the file should hold."""
    from mastery_cli.diagnostics import MasteryError, error
    from mastery_cli.inputs import hint_for, read_regular_text

    shown = str(path)
    try:
        return read_regular_text(path, "utf-8-sig")
    except OSError as exc:  # missing, a pipe, a device, a link loop: never opened
        raise MasteryError(error(
            "unreadable-file", f"cannot read {what}: {exc.strerror}", shown,
            hint=hint_for(exc) or f"check the path of {option}",
        )) from None
    except UnicodeDecodeError as exc:
        raise MasteryError(error(
            "unreadable-file", f"cannot read {what}: {exc}", shown,
            hint="save it as UTF-8 CSV; " + columns_hint,
        )) from None
