"""Atomic, safe output files."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastery_cli.output import (
    contained,
    neutralize_formula,
    safe_filename,
    write_bytes_atomic,
    write_text_atomic,
)


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "a.csv", "x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.csv").stat().st_mode) == 0o644


def test_atomic_write_replaces_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "grades.json"
    write_bytes_atomic(target, b"one")
    write_bytes_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["grades.json"]


@given(st.text(max_size=60))
def test_safe_filenames_never_climb_out_or_hide(value: str) -> None:
    name = safe_filename(value)
    assert name and "/" not in name and "\\" not in name
    assert not name.startswith(".")
    assert name not in {"..", "."}


def test_contained_refuses_escapes(tmp_path: Path) -> None:
    assert contained(tmp_path, "a.html") == (tmp_path / "a.html").resolve()
    with pytest.raises(ValueError):
        contained(tmp_path, "../outside.html")


@pytest.mark.parametrize(("cell", "expected"), [
    ("=SUM(A1)", "'=SUM(A1)"), ("+1+1", "'+1+1"), ("@cmd", "'@cmd"), ("-2.5", "-2.5"),
    ("Ana", "Ana"), ("-x", "'-x"),
])
def test_formula_cells_are_neutralised(cell: str, expected: str) -> None:
    assert neutralize_formula(cell) == expected


def test_a_pending_file_appears_only_when_committed(tmp_path: Path) -> None:
    from mastery_cli.output import PendingFile

    kept, dropped = PendingFile(tmp_path / "kept.csv"), PendingFile(tmp_path / "dropped.csv")
    kept.write([b"a,", memoryview(b"b\n")])
    dropped.write([b"x\n"])
    assert not (tmp_path / "kept.csv").exists()
    assert kept.commit() == tmp_path / "kept.csv"
    dropped.discard()
    assert [p.name for p in tmp_path.iterdir()] == ["kept.csv"]
    assert (tmp_path / "kept.csv").read_bytes() == b"a,b\n"
    with pytest.raises(ValueError, match="discarded"):
        dropped.commit()


def test_a_pending_file_that_fails_to_write_leaves_nothing(tmp_path: Path) -> None:
    from mastery_cli.output import PendingFile

    def chunks() -> Iterator[bytes]:
        yield b"half a file"
        raise OSError(28, "No space left on device")

    file = PendingFile(tmp_path / "grades.csv")
    with pytest.raises(OSError, match="No space"):
        file.write(chunks())
    assert list(tmp_path.iterdir()) == []
