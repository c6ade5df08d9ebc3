"""From the bytes of a gradebook export to columns of text, whatever the spreadsheet did to it.

Exports arrive as UTF-8 (with or without the BOM Excel adds), UTF-16 ("Unicode text"), or in
Windows-1252 from older Excel and SIS versions; with ``,``, ``;`` (European locales) or tab
between fields; with CRLF line ends; with newlines inside quoted comments. `sniff` decides the
encoding and the delimiter from the first 64 KB and hands pyarrow UTF-8 bytes; `read_records`
parses every field as a string (so ``0012345`` stays ``0012345``) and says on which physical
line each record starts, which is what diagnostics and rejects point at.

The decimal separator is not guessed here from a sample: `detect_decimal` decides it from the
distinct values of the score column, which the caller has in hand anyway.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from mastery_cli.diagnostics import Diagnostic, warning

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^[+-]?\d+\.\d+$")


class CsvError(Exception):
    """The bytes cannot be read as CSV at all; carries the diagnostic that says why."""

    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(diagnostic.message)


@dataclass(frozen=True)
class Dialect:
    encoding: str
    delimiter: str
    line_ending: str
    has_quotes: bool

    def describe(self) -> str:
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
        endings = {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}
        return (
            f"{self.encoding}, {names.get(self.delimiter, repr(self.delimiter))}-separated, "
            f"{endings.get(self.line_ending, 'LF')} line ends"
        )


@dataclass
class DecodedCsv:
    """UTF-8 bytes without a BOM (what pyarrow reads), the dialect and the header."""

    data: bytes
    dialect: Dialect
    header: list[str]
    header_lines: int
    diagnostics: list[Diagnostic] = field(default_factory=list)


class NotUtf8(Exception):
    """pyarrow found bytes that are not UTF-8 past the sample `sniff` checked."""


@dataclass
class CsvRecords:
    """Every data record of a file as string columns, and where each record starts.

    ``lines[i]`` is the physical line (1-based, the header is line 1) on which record ``i``
    starts. ``bad_lines`` are records pyarrow could not use (wrong number of fields), with a
    message each; they are not among the records.
    """

    header: list[str]
    chunked: list[pa.ChunkedArray]
    lines: np.ndarray
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    _combined: dict[int, pa.Array] = field(default_factory=dict, repr=False)

    @property
    def count(self) -> int:
        return len(self.lines)

    def column(self, index: int) -> pa.Array:
        """Column ``index`` as one contiguous array, made on first use: vectorised kernels are
        several times faster on one array than on pyarrow's parse chunks."""
        if index not in self._combined:
            self._combined[index] = self.chunked[index].combine_chunks()
        return self._combined[index]


def _decode(raw: bytes, path: str, legacy: bool) -> tuple[str, bytes, list[Diagnostic]]:
    """(encoding name, UTF-8 bytes without BOM, diagnostics).

    Only the first 64 KB are checked to be UTF-8 here (checking 100 MB costs a tenth of the
    whole read); pyarrow checks the rest, `read_records` raises NotUtf8 and the caller sniffs
    again with ``legacy=True``, which checks everything.
    """
    if raw.startswith(codecs.BOM_UTF8):
        body = raw[len(codecs.BOM_UTF8) :]
        encoding = "UTF-8 with BOM"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export: UTF-16, usually tab-separated.
        return "UTF-16", raw.decode("utf-16").encode("utf-8"), []
    else:
        body = raw
        encoding = "UTF-8"
    try:
        (body if legacy else _sample_bytes(body)).decode("utf-8")
        return encoding, body, []
    except UnicodeDecodeError as problem:
        line = body.count(b"\n", 0, problem.start) + 1
        bad = body[problem.start : problem.start + 1].hex().upper()
    try:
        text = body.decode("cp1252")
        used = "Windows-1252"
    except UnicodeDecodeError:
        # Bytes undefined in Windows-1252 (0x81, 0x8D...): Latin-1 maps every byte.
        text = body.decode("latin-1")
        used = "Latin-1"
    diagnostic = warning(
        "encoding-fallback",
        f"the file is not UTF-8 (byte 0x{bad} on line {line}); read it as {used}",
        path,
        line,
        hint="check accented names in the results; save the export as 'CSV UTF-8' to be sure",
    )
    return used, text.encode("utf-8"), [diagnostic]


def _sample_bytes(data: bytes) -> bytes:
    """The first 64 KB, cut at a line end so no record or character is split."""
    if len(data) <= SAMPLE_BYTES:
        return data
    cut = data.rfind(b"\n", 0, SAMPLE_BYTES)
    return data[: cut + 1 if cut > 0 else SAMPLE_BYTES]


def _sample_text(data: bytes) -> str:
    return _sample_bytes(data).decode("utf-8", errors="replace")


def _delimiter(sample: str) -> str:
    """The delimiter that splits the header into most fields, consistently in the rows below."""
    best = (",", (False, 0.0, 0))
    for delimiter in DELIMITERS:
        records = [r for r in _first_records(sample, delimiter, 50) if r]
        if not records:
            continue
        width = len(records[0])
        rows = records[1:]
        consistency = (sum(1 for r in rows if len(r) == width) / len(rows)) if rows else 1.0
        score = (width > 1, consistency, width)
        if score > best[1]:
            best = (delimiter, score)
    return best[0]


def _first_records(text: str, delimiter: str, limit: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    try:
        for record in reader:
            records.append(record)
            if len(records) >= limit:
                break
    except csv.Error:
        pass
    return records


def _line_ending(sample: str) -> str:
    first = sample.find("\n")
    if first > 0 and sample[first - 1] == "\r":
        return "\r\n"
    if first < 0 and "\r" in sample:
        return "\r"
    return "\n"


def sniff(raw: bytes, path: str, *, legacy: bool = False) -> DecodedCsv:
    """Decode ``raw`` and find its dialect and header. Raises CsvError on an unreadable file.

    ``legacy``: check that the whole file is UTF-8, and read it as Windows-1252 when not.
    """
    encoding, data, diagnostics = _decode(raw, path, legacy)
    sample = _sample_text(data)
    line_ending = _line_ending(sample)
    if line_ending == "\r":
        # Classic Mac line ends: pyarrow and csv both read "\n" reliably.
        data = data.replace(b"\r", b"\n")
        sample = sample.replace("\r", "\n")
    delimiter = _delimiter(sample)
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    try:
        header = next(reader, [])
    except csv.Error as problem:
        raise CsvError(warning("bad-csv", f"cannot read the header: {problem}", path, 1)) from None
    header_lines = max(1, reader.line_num)
    dialect = Dialect(
        encoding=encoding, delimiter=delimiter, line_ending=line_ending, has_quotes=b'"' in data
    )
    return DecodedCsv(
        data=data,
        dialect=dialect,
        header=header,
        header_lines=header_lines,
        diagnostics=diagnostics,
    )


def detect_decimal(values: Iterable[str]) -> str:
    """``","`` when the numbers use a decimal comma (and none a decimal point), else ``"."``.

    Decided from the distinct values of the score column(s), not from a sample, so a decimal
    comma first seen on row 90,000 is still understood. A quoted ``"3,5"`` in a
    comma-separated file is a decimal comma too.
    """
    commas = dots = 0
    for value in values:
        if _COMMA_DECIMAL.match(value):
            commas += 1
        elif _DOT_DECIMAL.match(value):
            dots += 1
    return "," if commas and not dots else "."


def read_records(decoded: DecodedCsv, path: str) -> CsvRecords:
    """Parse every data record into string columns, with the line each record starts on.

    pyarrow splits the file into blocks at line ends and parses them on every core; a quoted
    value with a line break in it needs ``newlines_in_values``, which makes the splitting serial
    and the parse ~1.5x slower. So it is used only when the sample shows such a value, or when
    the quick parse does not come out as one record per line (the only way to be sure that no
    block boundary fell inside a quoted value); otherwise the quick parse is exact.
    """
    quoted_newlines = decoded.dialect.has_quotes and _sample_has_quoted_newline(decoded)
    if not quoted_newlines:
        table, bad = _parse(decoded, path, newlines_in_values=False, strict=False)
        if table is not None and not bad and _one_line_per_record(decoded, table.num_rows - 1):
            return _records(decoded, table, bad, one_line_per_record=True)
        if not decoded.dialect.has_quotes and table is not None:
            return _records(decoded, table, bad, one_line_per_record=False)
        del table
    table, bad = _parse(decoded, path, newlines_in_values=decoded.dialect.has_quotes, strict=True)
    assert table is not None
    one_line = not bad and _one_line_per_record(decoded, table.num_rows - 1)
    return _records(decoded, table, bad, one_line_per_record=one_line)


def _sample_has_quoted_newline(decoded: DecodedCsv) -> bool:
    sample = _sample_text(decoded.data)
    records = _first_records(sample, decoded.dialect.delimiter, 1000)
    return any("\n" in value or "\r" in value for record in records for value in record)


def _parse(
    decoded: DecodedCsv, path: str, *, newlines_in_values: bool, strict: bool
) -> tuple[pa.Table | None, list[tuple[int | None, str]]]:
    """(every record as string columns, header first; malformed records). Not ``strict``: a
    parse error gives no table (the caller parses again the careful way)."""
    width = len(decoded.header)
    bad: list[tuple[int | None, str]] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        bad.append(
            (row.number, f"expected {row.expected_columns} fields, found {row.actual_columns}")
        )
        return "skip"

    names = [f"c{i}" for i in range(width)]
    try:
        # A BufferReader hands pyarrow the bytes without a copy (BytesIO would copy them).
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(decoded.data)),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=0),
            parse_options=pacsv.ParseOptions(
                delimiter=decoded.dialect.delimiter,
                newlines_in_values=newlines_in_values,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as problem:
        if "UTF8" in str(problem) or "UTF-8" in str(problem):
            raise NotUtf8(str(problem)) from None
        if not strict:
            return None, bad
        raise CsvError(
            warning("bad-csv", f"cannot read the file as CSV: {problem}", path)
        ) from None
    return table, bad


def _records(
    decoded: DecodedCsv,
    table: pa.Table,
    bad: list[tuple[int | None, str]],
    *,
    one_line_per_record: bool,
) -> CsvRecords:
    header = decoded.header
    width = len(header)
    # The header came back as the first record (we named the columns ourselves, so that
    # duplicate or empty header cells cannot confuse pyarrow).
    table = table.slice(1)
    columns = [table.column(i) for i in range(width)]
    count = table.num_rows
    if one_line_per_record:
        lines = np.arange(
            decoded.header_lines + 1, decoded.header_lines + 1 + count, dtype=np.int64
        )
        return CsvRecords(header, columns, lines)
    lines, bad_lines = _record_lines(decoded, width)
    if len(lines) != count:
        # pyarrow and the csv module disagree on where records start (should not happen);
        # fall back to record numbers rather than point at wrong lines silently.
        lines = np.arange(
            decoded.header_lines + 1, decoded.header_lines + 1 + count, dtype=np.int64
        )
        bad_lines = [(line or 0, message) for line, message in bad]
    return CsvRecords(header, columns, lines, bad_lines)


def _one_line_per_record(decoded: DecodedCsv, count: int) -> bool:
    data = decoded.data
    physical = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return physical == decoded.header_lines + count


def _record_lines(decoded: DecodedCsv, width: int) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Start lines of the good records, and the bad ones, by reading the file with `csv`.

    The slow path, only for files with quoted newlines, blank lines or malformed records.
    """
    text = decoded.data.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=decoded.dialect.delimiter)
    starts: list[int] = []
    bad: list[tuple[int, str]] = []
    next_line = 1
    for index, record in enumerate(reader):
        start = next_line
        next_line = reader.line_num + 1
        if index == 0 or not record:
            continue
        if len(record) != width:
            bad.append((start, f"expected {width} fields, found {len(record)}"))
            continue
        starts.append(start)
    return np.asarray(starts, dtype=np.int64), bad
