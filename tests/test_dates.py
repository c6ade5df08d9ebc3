"""Date cells: `parse_dates` against dates written from known values, and the odd texts.

The oracle draws a date and time, writes it the ways exports and teachers write dates (ISO 8601
with ``T`` or a space, fractions, time zones; year first with slashes or dots and one-digit
months; US ``M/D/YYYY`` and ``MM/DD/YY`` with 24-hour or AM/PM times) and expects back exactly
the value it wrote, to the precision the text shows, the time zone dropped.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastery_cli.grading.dates import parse_dates


def read(text: str, date_format: str | None = None) -> str:
    """``text`` as parse_dates reads it alone: the value, ``NaT`` for blank, ``bad``."""
    values, bad = parse_dates([text], date_format)
    return "bad" if bad[0] else str(values[0])


def day(text: str) -> str:
    return f"{text}T00:00:00.000000000"


EXPECTED = [
    # ISO 8601 dates and date-times
    ("2025-09-06", day("2025-09-06")),
    ("20250906", day("2025-09-06")),
    ("2025-09-06T10:15", "2025-09-06T10:15:00.000000000"),
    ("2025-09-06 10:15:30", "2025-09-06T10:15:30.000000000"),
    ("2025-09-06t10:00", "2025-09-06T10:00:00.000000000"),
    ("2025-09-06T10", "2025-09-06T10:00:00.000000000"),
    ("2025-09-06T1015", "2025-09-06T10:15:00.000000000"),
    ("20250906T101530", "2025-09-06T10:15:30.000000000"),
    ("2025-09-06T10:15:30.1", "2025-09-06T10:15:30.100000000"),
    ("2025-09-06T10:15:30,5", "2025-09-06T10:15:30.500000000"),
    ("2025-09-06T10:15:30.123456789", "2025-09-06T10:15:30.123456000"),  # microseconds kept
    ("2025-W36-6", day("2025-09-06")),
    ("2024-02-29", day("2024-02-29")),
    # time zones: dropped, the local date and time kept
    ("2025-09-06T21:00:00-06:00", "2025-09-06T21:00:00.000000000"),
    ("2025-09-06T10:15:30Z", "2025-09-06T10:15:30.000000000"),
    ("2025-09-06T10:00+05:30", "2025-09-06T10:00:00.000000000"),
    ("2025-09-06T10:00+5", "2025-09-06T10:00:00.000000000"),
    ("2025-09-06 10:15:30 +0100", "2025-09-06T10:15:30.000000000"),
    ("2025-09-06T10:15:30.123Z", "2025-09-06T10:15:30.123000000"),
    ("2026-09-01 08:00:00 UTC", "2026-09-01T08:00:00.000000000"),
    ("2025-09-06 GMT", day("2025-09-06")),
    ("2025-09-06Z", day("2025-09-06")),
    ("2025-09-01+02:00", day("2025-09-01")),
    ("9/6/2025 9:30 PM -0700", "2025-09-06T21:30:00.000000000"),
    # year first with one-digit parts, slashes, dots; a month
    ("2025-9-6", day("2025-09-06")),
    ("2025/09/06", day("2025-09-06")),
    ("2025/9/6 13:05", "2025-09-06T13:05:00.000000000"),
    ("2025.09.06", day("2025-09-06")),
    ("2025-09-06 7:05", "2025-09-06T07:05:00.000000000"),
    ("2025-09-06T1:15", "2025-09-06T01:15:00.000000000"),
    ("2025-09-06 10:15 PM", "2025-09-06T22:15:00.000000000"),
    ("2025-09", day("2025-09-01")),
    # US
    ("9/6/2025", day("2025-09-06")),
    ("09/06/2025 10:15", "2025-09-06T10:15:00.000000000"),
    ("09/06/2025 10:15:30", "2025-09-06T10:15:30.000000000"),
    ("9/6/2025 1:05 PM", "2025-09-06T13:05:00.000000000"),
    ("02/29/2024 12:00 AM", day("2024-02-29")),
    ("9/6/25", day("2025-09-06")),
    ("12/31/99", day("1999-12-31")),
    ("1/1/69", day("1969-01-01")),
    # spaces around a date do not matter; blank is no date, not a bad one
    ("  2025-09-06 ", day("2025-09-06")),
    ("", "NaT"),
    ("   ", "NaT"),
    # the edges of datetime64[ns]
    ("1677-09-22", day("1677-09-22")),
    ("2262-04-11", day("2262-04-11")),
    ("1677-09-21", "bad"),
    ("2262-04-12", "bad"),
    ("1500-01-01", "bad"),
    # bad dates
    ("2025-02-29", "bad"),
    ("2025-02-30", "bad"),
    ("2025-13-01", "bad"),
    ("2025-00-10", "bad"),
    ("13/01/2025", "bad"),
    ("2025-09-06T24:00", "bad"),
    ("2025", "bad"),  # a year is not a date
    ("2025-0906", "bad"),
    ("2025+1999", "bad"),
    ("-0800", "bad"),
    ("2025 09 06", "bad"),
    ("2025\\09\\06", "bad"),
    ("2025-09-06T10:15:30.", "bad"),
    ("+2025-01-01", "bad"),
    ("25-01-01", "bad"),
    ("1999122025", "bad"),  # Python 3.11's date.fromisoformat reads 1999-12-20
    ("20240502920244", "bad"),  # datetime.fromisoformat reads 2024-05-02 20:24:40
    ("today", "bad"),
    ("now", "bad"),
    ("NaT", "bad"),
    ("nan", "bad"),
    ("yesterday", "bad"),
    ("Sep 6, 2025", "bad"),
    ("٢٠٢٥-٠٩-٠٦", "bad"),
]


@pytest.mark.parametrize(("text", "expected"), EXPECTED, ids=[repr(t) for t, _ in EXPECTED])
def test_each_text_reads_as_a_teacher_expects(text: str, expected: str) -> None:
    assert read(text) == expected


def test_distinct_texts_together_read_as_each_alone() -> None:
    texts = [t for t, _ in EXPECTED]
    values, bad = parse_dates(texts, None)
    assert values.dtype == np.dtype("datetime64[ns]")
    assert ["bad" if b else str(v) for v, b in zip(values, bad, strict=True)] == [
        e for _, e in EXPECTED]
    empty_values, empty_bad = parse_dates([], None)
    assert len(empty_values) == len(empty_bad) == 0


@pytest.mark.parametrize(
    ("text", "date_format", "expected"),
    [
        ("01.09.2025", "%d.%m.%Y", day("2025-09-01")),
        ("01.09.2025", None, "bad"),  # day first only when the policy says so
        ("06/09/2025 14:30", "%d/%m/%Y %H:%M", "2025-09-06T14:30:00.000000000"),
        ("13/01/2025", "%d/%m/%Y", day("2025-01-13")),
        # the policy's format first, then the built-in forms
        ("09/15/2025", "%d/%m/%Y", day("2025-09-15")),
        ("2025-09-06", "%d.%m.%Y", day("2025-09-06")),
        ("31.02.2025", "%d.%m.%Y", "bad"),
        ("2025-09-06T10:15", "ISO8601", "2025-09-06T10:15:00.000000000"),
        ("2025-09-06", "%Q", day("2025-09-06")),  # a directive strptime lacks: built-ins
        ("Sep 6, 2025", "%b %d, %Y", day("2025-09-06")),
        ("6 Sep 2025", "mixed", day("2025-09-06")),
        ("2025-09-06T21:00-06:00", "mixed", "2025-09-06T21:00:00.000000000"),
        ("today", "mixed", "bad"),
        ("not a date", "mixed", "bad"),
    ],
)
def test_the_policys_date_format(text: str, date_format: str, expected: str) -> None:
    assert read(text, date_format) == expected


# --------------------------------------------------------------------------- the oracle

moments = st.datetimes(min_value=datetime(1678, 1, 1), max_value=datetime(2261, 12, 31))


def twelve_hour(moment: datetime) -> str:
    return f"{(moment.hour + 11) % 12 + 1}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


#: name -> (how it writes a moment, what of the moment it keeps)
WRITERS = {
    "iso date": (lambda m: m.strftime("%Y-%m-%d"), "day"),
    "iso basic": (lambda m: m.strftime("%Y%m%d"), "day"),
    "iso minutes": (lambda m: m.strftime("%Y-%m-%dT%H:%M"), "minute"),
    "iso seconds, space": (lambda m: m.strftime("%Y-%m-%d %H:%M:%S"), "second"),
    "iso microseconds": (lambda m: m.strftime("%Y-%m-%dT%H:%M:%S.%f"), "microsecond"),
    "iso milliseconds Z": (lambda m: m.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "milli"),
    "iso offset": (lambda m: m.strftime("%Y-%m-%dT%H:%M:%S-07:00"), "second"),
    "iso offset basic": (lambda m: m.strftime("%Y-%m-%d %H:%M:%S +0530"), "second"),
    "year first, one digit": (lambda m: f"{m.year}-{m.month}-{m.day}", "day"),
    "year first, slashes": (lambda m: f"{m.year}/{m.month}/{m.day} {m.hour}:{m.minute:02d}",
                            "minute"),
    "US": (lambda m: f"{m.month}/{m.day}/{m.year}", "day"),
    "US padded, 24 hours": (lambda m: m.strftime("%m/%d/%Y %H:%M:%S"), "second"),
    "US, AM/PM": (lambda m: f"{m.month}/{m.day}/{m.year} {twelve_hour(m)}", "minute"),
    "US, two-digit year": (lambda m: m.strftime("%m/%d/%y"), "day"),
}


def kept(moment: datetime, precision: str) -> datetime:
    if precision == "day":
        return datetime(moment.year, moment.month, moment.day)
    if precision == "minute":
        return moment.replace(second=0, microsecond=0)
    if precision == "second":
        return moment.replace(microsecond=0)
    if precision == "milli":
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return moment


@settings(max_examples=500, deadline=None)
@given(moment=moments, writer=st.sampled_from(sorted(WRITERS)))
def test_a_written_moment_reads_back(moment: datetime, writer: str) -> None:
    write, precision = WRITERS[writer]
    if writer == "US, two-digit year":  # 69-99 are the 1900s, 00-68 the 2000s (POSIX)
        moment = moment.replace(year=1969 + (moment.year - 1969) % 100)
    expected = kept(moment, precision)
    values, bad = parse_dates([write(moment)], None)
    assert not bad[0]
    assert values[0] == np.datetime64(expected, "ns")


DAY_WRITERS = {
    "iso": lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
    "year first, slashes": lambda y, m, d: f"{y}/{m}/{d}",
    "US": lambda y, m, d: f"{m:02d}/{d:02d}/{y}",
}


@settings(max_examples=200, deadline=None)
@given(moment=moments, writer=st.sampled_from(sorted(DAY_WRITERS)))
def test_a_day_past_the_end_of_its_month_is_bad(moment: datetime, writer: str) -> None:
    first_of_next = (moment.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = (first_of_next - timedelta(days=1)).day
    write = DAY_WRITERS[writer]
    assert read(write(moment.year, moment.month, last)) != "bad"
    assert read(write(moment.year, moment.month, last + 1)) == "bad"


def test_reading_dates_imports_no_pandas() -> None:
    script = textwrap.dedent("""
        import sys
        from mastery_cli.grading.dates import parse_dates
        parse_dates(["2025-09-06", "9/6/2025", "x", "01.09.2025"], "%d.%m.%Y")
        print("pandas" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"
