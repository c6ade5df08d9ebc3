"""Writing output files atomically, deterministically and safely.

Every file is written to a temporary file in the same folder and renamed over the target, so a
crash or Ctrl-C never leaves half a report card. Names built from data (student ids) go through
`safe_filename`, so no id can write outside the output folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _file_mode() -> int:
    """The mode a plain ``open()`` would give a new file (0o666 less the umask).

    mkstemp creates its file 0o600, and the rename keeps that: report cards written for a
    school's shared folder would be readable by their writer alone.
    """
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_bytes_atomic(path: Path, data: bytes) -> None:
    write_chunks_atomic(path, [data])


def write_chunks_atomic(path: Path, chunks: Iterable[bytes | memoryview]) -> None:
    """Write ``chunks`` one after the other as the file ``path``, atomically."""
    file = PendingFile(path)
    file.write(chunks)
    file.commit()


class PendingFile:
    """A file made under a temporary name in its folder (`write`) and put in place later
    (`commit`), or never (`discard`): a file written early does not appear before its
    siblings are ready too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        self._fd: int | None = fd
        self._temp: str | None = temp

    def write(self, chunks: Iterable[bytes | memoryview]) -> None:
        """Write ``chunks`` one after the other as the file's content (and close it)."""
        if self._fd is None:
            raise ValueError(f"{self.path} is written already")
        fd, self._fd = self._fd, None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.writelines(chunks)
                os.fchmod(handle.fileno(), _file_mode())
        except BaseException:
            self.discard()
            raise

    def append(self, parts: Iterable[str]) -> None:
        """Add the content of the files ``parts`` (in order) after what `write` wrote, and
        delete them (the other processes' parts of one file, `split_run`)."""
        if self._temp is None or self._fd is not None:
            raise ValueError(f"{self.path} is not written yet, or discarded")
        with open(self._temp, "r+b") as handle:  # not "ab": no copy_file_range to O_APPEND
            handle.seek(0, os.SEEK_END)
            for part in parts:
                with open(part, "rb") as source:
                    _copy(source, handle)
                os.unlink(part)

    @property
    def temp(self) -> str:
        """Where the content is until `commit`."""
        if self._temp is None:
            raise ValueError(f"{self.path} was discarded")
        return self._temp

    def commit(self) -> Path:
        if self._temp is None:
            raise ValueError(f"{self.path} was discarded")
        if self._fd is not None:
            raise ValueError(f"{self.path} was never written")
        os.replace(self._temp, self.path)
        self._temp = None
        return self.path

    def discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._temp is not None and os.path.exists(self._temp):
            os.unlink(self._temp)
        self._temp = None


def _copy(source: BinaryIO, target: BinaryIO) -> None:
    """All of ``source`` after the end of ``target``: in the kernel where it can (no copy
    through this process), else read and written a megabyte at a time."""
    size = os.fstat(source.fileno()).st_size
    target.flush()
    end = os.lseek(target.fileno(), 0, os.SEEK_END)
    copy_range = getattr(os, "copy_file_range", None)
    if copy_range is not None:
        try:
            done = 0
            while done < size:
                copied = copy_range(source.fileno(), target.fileno(), size - done)
                if not copied:
                    break
                done += copied
            if done == size:
                return
        except OSError:  # not between these files (some file systems, old kernels)
            pass
        os.ftruncate(target.fileno(), end)  # start again, the portable way
        os.lseek(target.fileno(), end, os.SEEK_SET)
        source.seek(0)
    shutil.copyfileobj(source, target, 1 << 20)


def write_text_atomic(path: Path, text: str) -> None:
    # newline="\n" everywhere: identical bytes on every platform, clean diffs in git.
    write_bytes_atomic(path, text.encode("utf-8"))


def safe_filename(value: str, *, fallback: str = "unnamed", max_length: int = 80) -> str:
    """A file name made from data that cannot climb out of its folder or hide.

    Accents are folded to ASCII, anything else becomes '-', leading dots are dropped (no
    hidden files, no '..'), and the result is never empty or a reserved name.
    """
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("-", folded).strip("-.")
    cleaned = cleaned[:max_length].strip("-.")
    if not cleaned or cleaned.upper() in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}:
        return fallback
    return cleaned


def contained(base: Path, name: str) -> Path:
    """``base / name``, refusing anything that would resolve outside ``base``."""
    target = (base / name).resolve()
    root = base.resolve()
    if target != root and root not in target.parents:
        raise ValueError(f"refusing to write outside {base}: {name!r}")
    return target


def neutralize_formula(cell: str) -> str:
    """Stop a spreadsheet from running a cell as a formula (CSV injection), OWASP-style."""
    if cell.startswith(_FORMULA_START):
        try:
            float(cell)
            return cell  # a negative number is data, not a formula
        except ValueError:
            return "'" + cell
    return cell
