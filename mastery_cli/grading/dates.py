"""Date cells of gradebooks: the dates a teacher writes, read with the standard library.

`parse_dates` reads each *distinct* text once (a gradebook of a million rows holds a few
hundred distinct dates): ISO 8601 through `date.fromisoformat` and `time.fromisoformat`, else
with the one ``strptime`` form (of those exports and spreadsheets write) the text can be in.
No pandas: importing it would cost `mastery grade` a quarter of a second for a handful of
texts (``date_format: mixed``, the one setting only pandas implements, imports it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

import numpy as np

#: The ``strptime`` form of a day by its separator (year first, or US month first), and of a
#: time by its colons and AM/PM, for the texts `date.fromisoformat` does not take: one-digit
#: months, days and hours, slashes and dots, AM/PM. `_form` picks the one form a text can be
#: in, so each text costs one ``strptime`` (which keeps only five compiled formats: trying
#: every form on every text took 1.4 ms a text).
_YEAR_FIRST = {"-": "%Y-%m-%d", "/": "%Y/%m/%d", ".": "%Y.%m.%d"}
_US = {4: "%m/%d/%Y", 2: "%m/%d/%y"}  # by the digits of the year
_CLOCKS = {(1, False): "%H:%M", (2, False): "%H:%M:%S", (1, True): "%I:%M %p",
           (2, True): "%I:%M:%S %p"}  # by (colons, AM/PM)

#: A time zone named at the end (``Z``, ``UTC``, ``GMT``), or an offset after a time of day
#: (``10:15+05:30``, ``10:15:30 -0800``, ``10:00+5``) or after a whole ISO date
#: (``2025-09-06+02:00``): dropped, the local time kept.
_NAMED_ZONE = re.compile(r"\s*(?:Z|UTC|GMT)$")
_OFFSET = re.compile(r"(.*(?:[T ]\d{1,2}(?::?\d{2}){1,2}(?:[.,]\d+)?(?:\s*[AaPp][Mm])?"
                     r"|^\d{4}-\d{2}-\d{2}))\s*[+-]\d{1,2}(?::?\d{2})?")

#: The shape of an ISO 8601 date (calendar or week) and time; `date.fromisoformat` reads the
#: values. (Python 3.11's reads the first 8 characters of 10 without a ``-``: ``1999122025``.)
_ISO_PARTS = re.compile(r"(\d{4}-\d\d-\d\d|\d{8}|\d{4}-?W\d\d(?:-?\d)?)(?:[Tt ]([\d:.,+-]+))?")
_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
_NAT = np.iinfo(np.int64).min  # datetime64's NaT; every other int64 is a time


def parse_dates(texts: Sequence[str], date_format: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct date texts -> (datetime64[ns] values, bad mask). Blank is NaT and not bad.

    Accepted, first match wins: ``date_format`` when given (a ``strptime`` format; ``ISO8601``
    and pandas' ``mixed`` are understood too), ISO 8601 dates and date-times as
    `date.fromisoformat` and `time.fromisoformat` read them (``2025-09-06``, ``20250906``,
    ``2025-09-06T10:15:30.123``, ``2025-09-06 10:15``, ``2025-W36-6``...), then ``strptime``:
    year first with ``-``, ``/`` or ``.`` and one-digit months and days (``2025/9/6``), US
    ``MM/DD/YYYY`` and ``MM/DD/YY``, each with an optional time (``13:05``, ``1:05 PM``), and
    the month ``2025-09`` (its first day). Spaces around the text do not matter. A time-zone
    suffix is dropped so the date stays the local one the teacher saw (a 9 pm submission in
    Denver is not moved to the next day). Fractions of a second past microseconds are cut.
    Dates outside what datetime64[ns] holds (1677-2262), a bare year, ``NaT`` and the words
    ``today``/``now`` are bad dates.
    """
    values = np.full(len(texts), _NAT, dtype=np.int64)
    bad = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        local = _without_zone(text.strip())
        if not local:
            continue
        when = _read(local, date_format)
        nanoseconds = None if when is None else _nanoseconds(when)
        if nanoseconds is None:
            bad[i] = True
        else:
            values[i] = nanoseconds
    return values.view("datetime64[ns]"), bad


def _without_zone(text: str) -> str:
    named = _NAMED_ZONE.sub("", text)
    if named != text:
        return named
    offset = _OFFSET.fullmatch(text)
    return offset.group(1) if offset else text


def _read(text: str, date_format: str | None) -> datetime | None:
    if date_format == "mixed":
        return _mixed(text)
    if date_format and date_format != "ISO8601":
        when = _strptime(text, date_format)
        if when is not None:
            return when
    when = _iso(text)
    if when is not None:
        return when
    form = _form(text)
    return None if form is None else _strptime(text, form)


def _form(text: str) -> str | None:
    """The one `strptime` form ``text`` can be written in (None: none of them)."""
    day, separator, clock = text.partition(" ") if " " in text else text.partition("T")
    parts = day.split("/")
    if len(parts) == 3 and len(parts[0]) <= 2:
        day_form = _US.get(len(parts[2]))
    elif len(day) >= 8 and day[4] in _YEAR_FIRST:
        day_form = _YEAR_FIRST[day[4]]
    elif len(day) in (6, 7) and day[4] == "-" and not clock:
        return "%Y-%m"  # a month: its first day
    else:
        return None
    if not clock or day_form is None:
        return day_form
    time_form = _CLOCKS.get((clock.count(":"), clock[-2:].upper() in ("AM", "PM")))
    return None if time_form is None else day_form + separator + time_form


def _iso(text: str) -> datetime | None:
    """An ISO 8601 date, and time after ``T`` or a space (``datetime.fromisoformat`` would
    take any character between them: ``20240502920244`` would be a date and time)."""
    parts = _ISO_PARTS.fullmatch(text)
    if parts is None:
        return None
    try:
        day = date.fromisoformat(parts[1])
        clock = time.fromisoformat(parts[2]) if parts[2] else time()
    except ValueError:
        return None
    return datetime.combine(day, clock.replace(tzinfo=None))  # an offset read: local time kept


def _strptime(text: str, form: str) -> datetime | None:
    try:
        return datetime.strptime(text, form).replace(tzinfo=None)
    except ValueError:  # not this form, or a form with a directive strptime does not know
        return None


def _nanoseconds(when: datetime) -> int | None:
    """Nanoseconds since 1970, or None outside datetime64[ns] (about 1677-2262)."""
    value = (when - _EPOCH) // _MICROSECOND * 1000
    return value if _NAT < value < 2**63 else None


def _mixed(text: str) -> datetime | None:
    """pandas' per-element format inference (``date_format: mixed``): no other reader
    implements it, so this rare setting imports pandas."""
    import pandas as pd

    if text.lower() in ("today", "now"):  # pandas would take the clock
        return None
    try:
        stamp = pd.to_datetime(text, format="mixed")
        return None if pd.isna(stamp) else stamp.tz_localize(None).to_pydatetime(warn=False)
    except (ValueError, TypeError, OverflowError):
        return None
