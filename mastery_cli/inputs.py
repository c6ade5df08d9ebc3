"""Opening the user's input files: regular files only, every problem an ``OSError``.

A named pipe or a device given where a file belongs (``mkfifo framework.yaml``, a link to
``/dev/zero`` named ``scores.csv``) would block or never end if opened and read, so only
regular files are opened: the path is checked with ``os.stat`` before ``open``, and the open
file with ``os.fstat`` after (``O_NONBLOCK`` makes the open itself return at once should the
path have become a pipe in between). A symbolic link loop gives ``OSError`` (ELOOP) here, and
``resolved`` turns Python 3.11's ``RuntimeError`` for one into the same, so every reader reports
these through the ``except OSError`` it already has, with ``exc.strerror`` as the reason.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)

#: What a diagnostic about an unreadable input suggests, by the reason's errno.
LOOP_HINT = "a symbolic link on this path points back to itself: fix or remove the link"
NOT_REGULAR_HINT = "mastery reads regular files only: name the file itself, not a pipe or device"
FOLDER_HINT = "name the files inside the folder (e.g. 'gradebook/*.csv'), not the folder"


class NotARegularFile(OSError):
    """The path exists but is a pipe, a device, a socket or a folder."""

    def __init__(self, path: str | os.PathLike[str], mode: int) -> None:
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        errno_value = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
        super().__init__(errno_value, f"not a regular file: it is {kind}", os.fspath(path))


def hint_for(problem: OSError) -> str | None:
    """The hint for an input that could not be read, when there is a better one than none."""
    if isinstance(problem, NotARegularFile):
        return FOLDER_HINT if problem.errno == errno.EISDIR else NOT_REGULAR_HINT
    if problem.errno == errno.ELOOP:
        return LOOP_HINT
    return None


def check_regular(path: str | os.PathLike[str]) -> os.stat_result:
    """``os.stat(path)``, raising ``NotARegularFile`` unless it is a regular file."""
    status = os.stat(path)
    if not stat.S_ISREG(status.st_mode):
        raise NotARegularFile(path, status.st_mode)
    return status


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """``open(path, "rb")`` for a regular file; ``OSError`` (``NotARegularFile``) otherwise."""
    check_regular(path)
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(path, mode)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_regular_bytes(path: str | os.PathLike[str]) -> bytes:
    """``Path(path).read_bytes()`` for a regular file; ``OSError`` otherwise."""
    with open_regular(path) as handle:
        return handle.read()


def read_regular_text(path: str | os.PathLike[str], encoding: str = "utf-8") -> str:
    """``Path(path).read_text(encoding)`` for a regular file; ``OSError`` (or
    ``UnicodeDecodeError``) otherwise."""
    return read_regular_bytes(path).decode(encoding)


def resolved(path: Path) -> Path:
    """``path.resolve()``, with a symbolic link loop as ``OSError`` (ELOOP), not the
    ``RuntimeError`` Python 3.11 raises."""
    try:
        return path.resolve()
    except RuntimeError:
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), os.fspath(path)) from None
