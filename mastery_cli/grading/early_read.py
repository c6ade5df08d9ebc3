"""Parsing the first gradebook while the rest of ``mastery grade`` starts up.

Before a grade run can read its first row it imports the grading modules and loads the
framework: about 65 ms, in which one core parses nothing. pyarrow's parse lets go of the GIL,
so `start` begins reading, sniffing and parsing the first file on a thread of its own as soon
as pyarrow is imported, and the reader (`ingest`) calls `take` for the parse when it gets to
that file (measured at a million rows: 25-40 ms sooner done, benchmarks/README.md).

The thread does exactly what the reader would do first, in the same order, and gives up at
the first step that would not go the ordinary way (a file that is missing, empty, not a CSV,
not UTF-8, or that pyarrow cannot parse): the reader then does everything itself, as without
this module, so every diagnostic comes from one place. A parse that is never taken (the
framework had errors, the file's header matched no format) is dropped at the end of the run.

Only the command line's fast path starts one; the library reads as it always does.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from mastery_cli.grading.csvsniff import (
    CsvRecords,
    DecodedCsv,
    Raw,
    not_csv,
    part_of,
    read_input,
    read_records,
    sniff,
    without_content,
)

#: Smaller files are parsed in a few milliseconds: not worth a thread.
EARLY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Parsed:
    """What the reader's first steps give for a file."""

    raw: Raw
    decoded: DecodedCsv
    records: CsvRecords


class _Reading:
    def __init__(self, path: Path, part: Part) -> None:
        self.parsed: Parsed | None = None
        self.thread = threading.Thread(target=self._run, args=(path, part), daemon=True,
                                       name="mastery-early-read")

    def _run(self, path: Path, part: Part) -> None:
        shown = str(path)
        try:
            raw = read_input(path)
            if without_content(raw) or not_csv(bytes(raw[:8])) is not None:
                return
            decoded = sniff(raw, shown)
            if part is not None:
                decoded = part_of(decoded, *part)
            records = read_records(decoded, shown, dictionary=True)
        except Exception:
            # OSError, CsvError, NotUtf8 or anything else: the reader does it all again,
            # meets the same problem and reports it (it owns every diagnostic).
            return
        self.parsed = Parsed(raw, decoded, records)


#: A byte range of a file's data (`csvsniff.part_of`), or None for the whole file.
Part = tuple[int, int] | None

_readings: dict[tuple[str, Part], _Reading] = {}


def start(path: Path, part: Part = None) -> None:
    """Start reading ``path`` (a large regular file), or a part of it, on a thread of its
    own."""
    try:
        large = os.path.isfile(path) and os.path.getsize(path) >= EARLY_BYTES
    except OSError:
        return
    if not large:
        return
    reading = _Reading(path, part)
    _readings[(str(path), part)] = reading
    reading.thread.start()


def forget() -> None:
    """Drop every parse not taken (the run ended before reading its files): a later run in
    the same process reads them afresh."""
    _readings.clear()


def take(path: Path, part: Part = None) -> Parsed | None:
    """The parse started for ``path`` (or that part of it) once it is done, or None (none
    started, or it gave up: the caller reads the file itself)."""
    reading = _readings.pop((str(path), part), None)
    if reading is None:
        return None
    reading.thread.join()
    return reading.parsed
