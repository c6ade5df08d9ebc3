"""From the bytes of a gradebook export to columns of text, whatever the spreadsheet did to it.

Exports arrive as UTF-8 (with or without the BOM Excel adds), UTF-16 ("Unicode text"), or in
Windows-1252 from older Excel and SIS versions; with ``,``, ``;`` (European locales) or tab
between fields; with CRLF line ends; with newlines inside quoted comments. `sniff` decides the
encoding and the delimiter from the first 64 KB and hands pyarrow UTF-8 bytes; `read_records`
parses every field as text (so ``0012345`` stays ``0012345``) and says on which physical line
each record starts, which is what diagnostics and rejects point at.

The decimal separator is not guessed here from a sample: `detect_decimal` decides it from the
distinct values of the score column, which the caller has in hand anyway.

Speed: a large file is memory-mapped (`read_input`), not copied; pyarrow reads the columns
straight as dictionaries (``dictionary=True``: a few thousand distinct texts in a million rows),
and `ColumnCodes` joins the per-block dictionaries of the parse into one code per row with a
Python dict over the distinct texts. Nothing here calls a ``pyarrow.compute`` kernel or builds
an Arrow array from Python objects on that path: the first kernel call costs ~0.2 s
(libarrow_compute registers every kernel) and converting Python objects imports pandas
(0.2 s), each more than the rest of the read. Only columns parsed as strings (``dictionary``
false, which the reader no longer asks for) are encoded with ``pyarrow.compute``.
"""

from __future__ import annotations

import codecs
import csv
import mmap
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, Union

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from mastery_cli import csvtext
from mastery_cli.diagnostics import Diagnostic, warning
from mastery_cli.inputs import open_regular

T = TypeVar("T")
SAMPLE_BYTES = 64 * 1024
#: Files at least this big are memory-mapped instead of read into a bytes object (the copy of a
#: 70 MB export costs more than 30 ms).
MAP_BYTES = 1024 * 1024
_BLOCK = 1024 * 1024  # bytes scanned per numpy call when counting line ends
#: What `sniff` reads: the file's bytes, or a read-only memory map of it.
Raw = Union[bytes, mmap.mmap]  # noqa: UP007 (a runtime alias)
#: UTF-8 bytes as handed to pyarrow: a bytes object, or a zero-copy view of a memory map.
Data = Union[bytes, memoryview]  # noqa: UP007 (a runtime alias)
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
    """UTF-8 bytes without a BOM (what pyarrow reads), the dialect and the header.

    ``data`` is a bytes object when `sniff` was given bytes (or had to re-encode them), else a
    read-only view of the memory-mapped file."""

    data: Data
    dialect: Dialect
    header: list[str]
    header_lines: int
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: The file ``data`` is a memory map of, from byte ``file_offset`` on (past a BOM), when
    #: the file is UTF-8 as it is: the parse and the line count then read the file in blocks,
    #: so that memory does not hold every page of it (a 730 MB export: 730 MB less at peak).
    file: Path | None = None
    file_offset: int = 0


class NotUtf8(Exception):
    """pyarrow found bytes that are not UTF-8 past the sample `sniff` checked."""


@dataclass
class CsvRecords:
    """Every data record of a file as text columns, and where each record starts.

    ``lines[i]`` is the physical line (1-based, the header is line 1) on which record ``i``
    starts: ``starts`` holds them, or is a ``range`` when they follow one another (no quoted
    line breaks, no blank lines: then no array of a million line numbers is made unless
    ``lines`` is asked for). ``bad_lines`` are records pyarrow could not use (wrong number of
    fields), with a message each; they are not among the records. The columns are strings, or
    dictionaries of strings when read with ``dictionary=True``.
    """

    header: list[str]
    chunked: list[pa.ChunkedArray]
    starts: np.ndarray | range
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    _combined: dict[int, pa.Array] = field(default_factory=dict, repr=False)
    _coded: dict[int, ColumnCodes] = field(default_factory=dict, repr=False)

    @property
    def count(self) -> int:
        return len(self.starts)

    @property
    def lines(self) -> np.ndarray:
        """The start line of every record."""
        if isinstance(self.starts, range):
            self.starts = np.arange(self.starts.start, self.starts.stop, dtype=np.int64)
        return self.starts

    def lines_at(self, rows: np.ndarray) -> np.ndarray:
        """The start lines of records ``rows`` (int64)."""
        if isinstance(self.starts, range):
            return np.add(rows, self.starts.start, dtype=np.int64)
        return self.starts[rows]

    def lines_where(self, mask: np.ndarray) -> np.ndarray:
        """The start lines of the records where ``mask`` is true (int64)."""
        if isinstance(self.starts, range):
            rows = np.flatnonzero(mask)
            rows += self.starts.start
            return rows
        return self.starts[mask]

    def column(self, index: int) -> pa.Array:
        """Column ``index`` as one contiguous string array, made on first use: vectorised
        kernels are several times faster on one array than on pyarrow's parse chunks."""
        if index not in self._combined:
            chunked = self.chunked[index]
            if pa.types.is_dictionary(chunked.type):
                coded = self.coded(index)
                lookup = np.array(coded.values or [""], dtype=object)
                self._combined[index] = pa.array(lookup[coded.codes], type=pa.string())
            else:
                self._combined[index] = chunked.combine_chunks()
        return self._combined[index]

    def coded(self, index: int) -> ColumnCodes:
        """Column ``index`` as distinct texts and codes (`ColumnCodes`), made once."""
        if index not in self._coded:
            self._coded[index] = ColumnCodes.of(self.chunked[index])
        return self._coded[index]

    def codes(self, index: int) -> tuple[np.ndarray, list[str]]:
        """Column ``index`` as (code per record, distinct texts in order of first appearance)."""
        coded = self.coded(index)
        return coded.codes, coded.values



#: Anything but white space and a byte-order mark.
_SOMETHING = re.compile(rb"[^\s\xef\xbb\xbf]")

#: How files that are often given instead of their CSV export start (their magic numbers).
_OTHER_FILES = (
    (b"PK\x03\x04", "a spreadsheet workbook (.xlsx or .ods) or another zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls)"),
    (b"%PDF-", "a PDF document"),
)


def without_content(raw: Raw) -> bool:
    """Whether the file holds nothing but white space (and a byte-order mark)."""
    return not _SOMETHING.search(raw)


def not_csv(start: bytes) -> str | None:
    """What a file is when its first bytes say it is not text (None: it may be a CSV)."""
    for magic, kind in _OTHER_FILES:
        if start.startswith(magic):
            return kind
    return None


def read_input(path: Path) -> Raw:
    """The bytes of ``path``: a read-only memory map for a large regular file (no copy: the OS
    pages it in as pyarrow parses), else a bytes object. Raises OSError like ``read_bytes``,
    and for a pipe or a device too (`open_regular`): those are never opened."""
    with open_regular(path) as handle:
        try:
            size = os.fstat(handle.fileno()).st_size
            if size >= MAP_BYTES:
                return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            pass  # not mappable (a pipe, a special file): read it
        return handle.read()


def _as_view(raw: Raw | memoryview, start: int = 0) -> Data:
    """``raw`` from ``start`` without a copy (a slice of bytes would copy them)."""
    if isinstance(raw, bytes):
        return raw[start:] if start else raw
    return memoryview(raw)[start:]


def count_newlines(data: Data, end: int | None = None) -> int:
    """How many b"\\n" are in ``data[:end]`` (numpy over 1 MB blocks: twice as fast as
    ``bytes.count`` and it works on a memory map)."""
    array = np.frombuffer(data, dtype=np.uint8)[:end]
    if len(array) <= _BLOCK:
        return int(np.count_nonzero(array == 10))
    scratch = np.empty(_BLOCK, dtype=bool)
    total = 0
    for start in range(0, len(array), _BLOCK):
        block = array[start : start + _BLOCK]
        hits = scratch[: len(block)]
        np.equal(block, 10, out=hits)
        total += int(np.count_nonzero(hits))
    return total


def _contains(data: Data, byte: bytes) -> bool:
    """Whether the byte ``byte`` is in ``data`` (stops at the first block that has it)."""
    if isinstance(data, bytes):
        return byte in data
    array = np.frombuffer(data, dtype=np.uint8)
    value = byte[0]
    return any(
        bool((array[start : start + _BLOCK] == value).any())
        for start in range(0, len(array), _BLOCK)
    )


def _dictionary_indices(chunk: pa.DictionaryArray) -> np.ndarray:
    """The int32 indices of a dictionary chunk, as a numpy view of its buffer.

    ``chunk.indices.to_numpy()`` would do, but it initialises pyarrow's compute kernels (0.2 s)
    the first time it runs."""
    indices = chunk.indices
    if indices.type != pa.int32() or indices.null_count:
        raise TypeError("expected int32 dictionary indices without nulls")
    buffer = indices.buffers()[1]
    return np.frombuffer(buffer, dtype=np.int32, count=indices.offset + len(indices))[
        indices.offset :
    ]


def smallest_int(size: int) -> type[np.signedinteger[Any]]:
    """The smallest signed integer type that holds codes 0..size-1 (and -1)."""
    if size <= 127:
        return np.int8
    if size <= 32767:
        return np.int16
    return np.int32


class ColumnCodes:
    """A text column as its distinct texts (``values``, in order of first appearance) and a code
    per row into them (``codes``, made on first use, in the smallest integer type that holds
    them); ``where(mask)`` gives the codes of some rows without making all of them.

    For a dictionary column of the CSV parse, each block has its own small dictionary: each
    block's texts are looked up once in one Python dict (a block of 15,000 rows holds a few
    hundred texts), which gives the block a small table from its codes to the column's, applied
    to its rows with `numpy.take`. No pyarrow.compute kernel runs.
    """

    def __init__(
        self,
        values: list[str],
        length: int,
        codes: np.ndarray | None = None,
        blocks: Sequence[tuple[int, np.ndarray, np.ndarray]] = (),
    ) -> None:
        self.values = values
        self.length = length
        self._codes = codes
        self._blocks = blocks  # (first row, the block's indices, its table to column codes)

    def __len__(self) -> int:
        return self.length

    @classmethod
    def of(cls, array: pa.Array | pa.ChunkedArray) -> ColumnCodes:
        if pa.types.is_dictionary(array.type):
            chunked = array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])
            return cls._of_dictionaries(chunked)
        codes, values = _encode_strings(array)
        return cls(values, len(codes), codes=codes)

    @classmethod
    def _of_dictionaries(cls, column: pa.ChunkedArray) -> ColumnCodes:
        position: dict[str, int] = {}
        blocks: list[tuple[int, np.ndarray, list[int]]] = []
        at = 0
        previous: pa.Array | None = None
        remap: list[int] = []
        for chunk in column.chunks:
            size = len(chunk)
            if not size:
                continue
            indices = _dictionary_indices(chunk)
            dictionary = chunk.dictionary
            if chunk.offset or previous is None or not dictionary.equals(previous):
                texts = dictionary.to_pylist()
                if chunk.offset:
                    # A slice (the header record cut off the first block): its dictionary
                    # still holds texts no row uses, which must not become codes, and is in
                    # the order the texts first appear in the whole block.
                    first = np.full(len(texts), size, dtype=np.int64)
                    np.minimum.at(first, indices, np.arange(size))
                    remap = [0] * len(texts)
                    for i in np.argsort(first, kind="stable").tolist():
                        if first[i] < size:
                            remap[i] = position.setdefault(texts[i], len(position))
                    previous = None
                else:
                    remap = [position.setdefault(t, len(position)) for t in texts]
                    previous = dictionary
            blocks.append((at, indices, remap))
            at += size
        dtype = smallest_int(len(position))
        tables: dict[int, np.ndarray] = {}
        typed = [
            (start, indices, tables.setdefault(id(remap), np.array(remap or [0], dtype=dtype)))
            for start, indices, remap in blocks
        ]
        return cls(list(position), at, blocks=typed)

    @property
    def codes(self) -> np.ndarray:
        if self._codes is None:
            dtype = smallest_int(len(self.values))
            codes = np.empty(self.length, dtype=dtype)
            for start, indices, table in self._blocks:
                # The indices are in range (a block's own dictionary): mode="clip" spares
                # numpy the buffered copy it makes of `out` with mode="raise" (4x faster).
                np.take(table, indices, out=codes[start : start + len(indices)], mode="clip")
            self._codes = codes
        return self._codes

    def at(self, rows: np.ndarray) -> np.ndarray:
        """``codes[rows]`` (``rows`` ascending), from the blocks when the codes are not made
        yet: for a few rows, without making a million codes."""
        if self._codes is not None or not self._blocks:
            return self.codes[rows]
        starts = np.array([start for start, _, _ in self._blocks], dtype=np.int64)
        bounds = [*np.searchsorted(rows, starts).tolist(), len(rows)]
        picked = np.empty(len(rows), dtype=smallest_int(len(self.values)))
        for b, (start, indices, table) in enumerate(self._blocks):
            low, high = bounds[b], bounds[b + 1]
            if low < high:
                picked[low:high] = table[indices[rows[low:high] - start]]
        return picked

    def where(self, mask: np.ndarray) -> np.ndarray:
        """``codes[mask]``, block by block when the codes are not made yet."""
        if self._codes is not None or not self._blocks:
            return self.codes[mask]
        picked = np.empty(int(np.count_nonzero(mask)), dtype=smallest_int(len(self.values)))
        at = 0
        for start, indices, table in self._blocks:
            chosen = indices[mask[start : start + len(indices)]]
            np.take(table, chosen, out=picked[at : at + len(chosen)], mode="clip")
            at += len(chosen)
        return picked


def encode(array: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """(code per row, distinct texts in order of first appearance) of a text column.

    Dictionary columns (as `read_records` gives them with ``dictionary=True``) are joined in
    Python (`ColumnCodes`); string columns are hashed by pyarrow's ``dictionary_encode`` (one
    pass, but it initialises pyarrow's compute kernels)."""
    coded = ColumnCodes.of(array)
    return coded.codes, coded.values


def _encode_strings(array: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    import pyarrow.compute as pc  # only for exports read as strings (not on the long path)

    encoded = pc.dictionary_encode(array)
    if isinstance(encoded, pa.ChunkedArray):
        if encoded.num_chunks == 0:
            return np.zeros(0, dtype=np.int32), []
        last = encoded.chunk(encoded.num_chunks - 1).dictionary
        if any(not chunk.dictionary.equals(last) for chunk in encoded.chunks[:-1]):
            encoded = encoded.unify_dictionaries()
            last = encoded.chunk(0).dictionary
        indices = np.concatenate(
            [np.asarray(chunk.indices.to_numpy(zero_copy_only=False)) for chunk in encoded.chunks]
        )
        return indices.astype(np.int32, copy=False), last.to_pylist()
    return (
        np.asarray(encoded.indices.to_numpy(zero_copy_only=False)).astype(np.int32, copy=False),
        encoded.dictionary.to_pylist(),
    )


def _decode(raw: Raw, path: str, legacy: bool) -> tuple[str, Data, list[Diagnostic]]:
    """(encoding name, UTF-8 bytes without BOM, diagnostics).

    Only the first 64 KB are checked to be UTF-8 here (checking 100 MB costs a tenth of the
    whole read); pyarrow checks the rest, `read_records` raises NotUtf8 and the caller sniffs
    again with ``legacy=True``, which checks everything.
    """
    head = bytes(raw[:4])
    if head.startswith(codecs.BOM_UTF8):
        body = _as_view(raw, len(codecs.BOM_UTF8))
        encoding = "UTF-8 with BOM"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export: UTF-16, usually tab-separated.
        return "UTF-16", str(raw, "utf-16").encode("utf-8"), []
    else:
        body = _as_view(raw)
        encoding = "UTF-8"
    try:
        str(body if legacy else _sample_bytes(body), "utf-8")
        return encoding, body, []
    except UnicodeDecodeError as problem:
        line = count_newlines(body, problem.start) + 1
        bad = bytes(body[problem.start : problem.start + 1]).hex().upper()
    try:
        text = str(body, "cp1252")
        used = "Windows-1252"
    except UnicodeDecodeError:
        # Bytes undefined in Windows-1252 (0x81, 0x8D...): Latin-1 maps every byte.
        text = str(body, "latin-1")
        used = "Latin-1"
    diagnostic = warning(
        "encoding-fallback",
        f"the file is not UTF-8 (byte 0x{bad} on line {line}); read it as {used}",
        path,
        line,
        hint="check accented names in the results; save the export as 'CSV UTF-8' to be sure",
    )
    return used, text.encode("utf-8"), [diagnostic]


def _sample_bytes(data: Data) -> bytes:
    """The first 64 KB, cut at a line end so no record or character is split."""
    if len(data) <= SAMPLE_BYTES:
        return bytes(data)
    sample = bytes(data[:SAMPLE_BYTES])
    cut = sample.rfind(b"\n")
    return sample[: cut + 1 if cut > 0 else SAMPLE_BYTES]


def _sample_text(data: Data) -> str:
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
    reader = csvtext.reader(text, delimiter)
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


def _header(data: Data, sample: str, delimiter: str) -> tuple[list[str], int]:
    """The header's fields and how many lines it takes.

    Read from the sample when something follows it there; a header (or a first row) longer than
    the sample is read again from a prefix four times as long, and so on, rather than cut.
    """
    size = SAMPLE_BYTES
    while True:
        reader = csvtext.reader(sample, delimiter)
        header = next(reader, [])
        lines = max(1, reader.line_num)
        if size >= len(data) or next(reader, None) is not None:
            return header, lines
        size *= 4
        sample = bytes(data[:size]).decode("utf-8", errors="replace")


def sniff(raw: Raw, path: str, *, legacy: bool = False, file: Path | None = None
          ) -> DecodedCsv:
    """Decode ``raw`` and find its dialect and header. Raises CsvError on an unreadable file.

    ``legacy``: check that the whole file is UTF-8, and read it as Windows-1252 when not.
    ``file``: the file ``raw`` was read from (`DecodedCsv.file`).
    """
    encoding, data, diagnostics = _decode(raw, path, legacy)
    sample = _sample_text(data)
    line_ending = _line_ending(sample)
    if line_ending == "\r":
        # Classic Mac line ends: pyarrow and csv both read "\n" reliably.
        data = bytes(data).replace(b"\r", b"\n")
        sample = sample.replace("\r", "\n")
    delimiter = _delimiter(sample)
    try:
        header, header_lines = _header(data, sample, delimiter)
    except csv.Error as problem:
        raise CsvError(warning("bad-csv", f"cannot read the header: {problem}", path, 1)) from None
    dialect = Dialect(
        encoding=encoding,
        delimiter=delimiter,
        line_ending=line_ending,
        has_quotes=_contains(data, b'"'),
    )
    as_is = (file is not None and isinstance(raw, mmap.mmap) and line_ending != "\r"
             and encoding in ("UTF-8", "UTF-8 with BOM"))
    return DecodedCsv(
        data=data,
        dialect=dialect,
        header=header,
        header_lines=header_lines,
        diagnostics=diagnostics,
        file=file if as_is else None,
        file_offset=len(raw) - len(data) if as_is else 0,
    )


def detect_decimal(values: Iterable[str]) -> str:
    """``","`` when the numbers use a decimal comma (and none a decimal point), else ``"."``.

    Decided from the distinct values of the score column(s), not from a sample, so a decimal
    comma first seen on row 90,000 is still understood. A quoted ``"3,5"`` in a
    comma-separated file is a decimal comma too.
    """
    commas, dots = decimal_marks(values)
    return "," if commas and not dots else "."


def decimal_marks(values: Iterable[str]) -> tuple[bool, bool]:
    """(whether some value is a number with a decimal comma, whether some has a decimal
    point): what `detect_decimal` decides from."""
    commas = dots = False
    for value in values:
        if _COMMA_DECIMAL.match(value):
            commas = True
        elif _DOT_DECIMAL.match(value):
            dots = True
    return commas, dots


def read_records(decoded: DecodedCsv, path: str, *, dictionary: bool = False) -> CsvRecords:
    """Parse every data record into text columns, with the line each record starts on.

    ``dictionary``: read every column as ``dictionary<int32, string>`` (for `ColumnCodes`,
    which then needs no pyarrow.compute) instead of as strings.

    pyarrow splits the file into blocks at line ends and parses them on every core; a quoted
    value with a line break in it needs ``newlines_in_values``, which makes the splitting serial
    and the parse ~1.5x slower. So it is used only when the sample shows such a value, or when
    the quick parse does not come out as one record per line (the only way to be sure that no
    block boundary fell inside a quoted value); otherwise the quick parse is exact.
    """
    quoted_newlines = decoded.dialect.has_quotes and sample_has_quoted_newline(decoded)
    if not quoted_newlines:
        # Count the lines while pyarrow parses (in numpy, which lets go of the GIL): 10 ms at
        # 70 MB, nearly hidden by the parse.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mastery-lines") as pool:
            counted = pool.submit(_decoded_lines, decoded)
            table, bad = _parse(
                decoded, path, newlines_in_values=False, strict=False, dictionary=dictionary
            )
            lines = counted.result()
        if (table is not None and not bad
                and lines == decoded.header_lines + table.num_rows - 1):
            return _utf8_checked(_records(decoded, table, bad, one_line_per_record=True))
        if not decoded.dialect.has_quotes and table is not None:
            return _utf8_checked(_records(decoded, table, bad, one_line_per_record=False))
        del table
    table, bad = _parse(
        decoded,
        path,
        newlines_in_values=decoded.dialect.has_quotes,
        strict=True,
        dictionary=dictionary,
    )
    assert table is not None
    one_line = not bad and _one_line_per_record(decoded, table.num_rows - 1)
    return _utf8_checked(_records(decoded, table, bad, one_line_per_record=one_line))


def _utf8_checked(records: CsvRecords) -> CsvRecords:
    """``records`` once every text of theirs is known to be UTF-8 (NotUtf8 otherwise).

    A dictionary parse is told not to check each cell (8% of the parse): every cell's text is
    in its block's dictionary, which `ColumnCodes` turns into Python strings, and a byte that
    is not UTF-8 fails there. So every column is coded here, once (the checks need them all).
    """
    if records.chunked and pa.types.is_dictionary(records.chunked[0].type):
        try:
            for index in range(len(records.chunked)):
                records.coded(index)
        except UnicodeDecodeError as problem:
            raise NotUtf8(str(problem)) from None
    return records


def sample_has_quoted_newline(decoded: DecodedCsv) -> bool:
    sample = _sample_text(decoded.data)
    records = _first_records(sample, decoded.dialect.delimiter, 1000)
    return any("\n" in value or "\r" in value for record in records for value in record)


def _parse(
    decoded: DecodedCsv, path: str, *, newlines_in_values: bool, strict: bool, dictionary: bool
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
    text = pa.dictionary(pa.int32(), pa.string()) if dictionary else pa.string()
    try:
        # The system allocator, not pyarrow's default (mimalloc): mimalloc hands the parse's
        # scratch memory back to the OS from its own threads while numpy then allocates the
        # checks' arrays, and both stall (the read of a million rows took 50 ms longer).
        table = pacsv.read_csv(
            _parse_source(decoded),
            memory_pool=pa.system_memory_pool(),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=0),
            parse_options=pacsv.ParseOptions(
                delimiter=decoded.dialect.delimiter,
                newlines_in_values=newlines_in_values,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, text),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=not dictionary,  # see _utf8_checked
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
        first = decoded.header_lines + 1
        return CsvRecords(header, columns, range(first, first + count))
    lines, bad_lines = _record_lines(decoded, width)
    if len(lines) != count:
        # pyarrow and the csv module disagree on where records start (should not happen);
        # fall back to record numbers rather than point at wrong lines silently.
        lines = np.arange(
            decoded.header_lines + 1, decoded.header_lines + 1 + count, dtype=np.int64
        )
        bad_lines = [(line or 0, message) for line, message in bad]
    return CsvRecords(header, columns, lines, bad_lines)


def _physical_lines(data: Data) -> int:
    return count_newlines(data) + (0 if not len(data) or data[-1:] == b"\n" else 1)


def _decoded_lines(decoded: DecodedCsv) -> int:
    """`_physical_lines` of ``decoded.data``, from its file in blocks when it has one."""
    if decoded.file is None:
        return _physical_lines(decoded.data)
    count = 0
    last = b""
    with open(decoded.file, "rb") as stream:
        stream.seek(decoded.file_offset)
        while block := stream.read(_BLOCK * 16):
            count += int(np.count_nonzero(np.frombuffer(block, dtype=np.uint8) == 10))
            last = block[-1:]
    return count + (1 if last and last != b"\n" else 0)


def _parse_source(decoded: DecodedCsv) -> pa.NativeFile:
    """What pyarrow parses: the file from its offset (read in blocks), else the bytes (a
    BufferReader hands them over without a copy; BytesIO would copy them)."""
    if decoded.file is None:
        return pa.BufferReader(pa.py_buffer(decoded.data))
    stream = pa.input_stream(str(decoded.file))
    stream.read(decoded.file_offset)
    return stream


def _one_line_per_record(decoded: DecodedCsv, count: int) -> bool:
    return _decoded_lines(decoded) == decoded.header_lines + count


def _record_lines(decoded: DecodedCsv, width: int) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Start lines of the good records, and the bad ones, by reading the file with `csv`.

    The slow path, only for files with quoted newlines, blank lines or malformed records.
    """
    text = str(decoded.data, "utf-8")
    reader = csvtext.reader(text, decoded.dialect.delimiter)
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
