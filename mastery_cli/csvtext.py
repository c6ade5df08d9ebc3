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
