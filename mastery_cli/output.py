"""Writing output files atomically, deterministically and safely.

Every file is written to a temporary file in the same folder and renamed over the target, so a
crash or Ctrl-C never leaves half a report card. The files of one run go through an
`OutputFolder`: written into a hidden staging folder inside ``--out``, then put in place all
together, or not at all. A single output file (``export --out FILE``) goes through
`write_output_file`. Both check the path first and answer a path that cannot be written (a
file where a folder belongs, a folder where a file belongs, a read-only folder, one of the
run's inputs) with a diagnostic, exit 2. Names built from data (student ids) go through
`safe_filename`, so no id can write outside the output folder.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType

from mastery_cli.diagnostics import MasteryError, error

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
        try:
            os.replace(self._temp, self.path)
        except BaseException:
            self.discard()  # no temporary file is left behind
            raise
        self._temp = None
        return self.path

    def discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._temp is not None and os.path.exists(self._temp):
            os.unlink(self._temp)
        self._temp = None


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


# -- output paths -----------------------------------------------------------------------------

#: Where a run's files wait until all of them are written: a hidden folder inside --out.
STAGING_PREFIX = ".mastery-"
STAGING_SUFFIX = ".tmp"


def _shown(path: Path) -> str:
    """The path as given, relative to the current folder when inside it; links are not
    followed (the one named may lead nowhere, or round in a loop)."""
    absolute = os.path.abspath(path)
    here = os.getcwd()
    if absolute.startswith(here.rstrip(os.sep) + os.sep):
        return Path(os.path.relpath(absolute, here)).as_posix()
    return Path(path).as_posix()


def output_problem(code: str, message: str, path: Path, hint: str) -> MasteryError:
    """A problem with an output path: a usage error (exit 2), located at the path."""
    return MasteryError(error(code, message, _shown(path), hint=hint), usage=True)


def _same_file(path: Path, inputs: Sequence[Path]) -> Path | None:
    """The input that ``path`` is (the same file, under any name), or None."""
    for given in inputs:
        try:
            if os.path.samefile(path, given):
                return given
        except OSError:  # one of them does not exist, or cannot be looked at
            continue
    return None


def _input_files(inputs: Sequence[Path]) -> list[Path]:
    return [p for p in inputs if os.path.isfile(p)]


def _nearest_existing(path: Path) -> Path:
    """``path``, or its closest ancestor that exists (as anything, a file too)."""
    absolute = Path(os.path.abspath(path))
    for candidate in (absolute, *absolute.parents):
        if os.path.lexists(candidate):
            return candidate
    return absolute.parents[-1]


def _check_not_a_broken_link(out: Path, existing: Path) -> None:
    if os.path.islink(existing) and not os.path.exists(existing):
        raise output_problem(
            "output-not-a-folder", f"--out {_shown(out)}: {_shown(existing)} is a link to "
            "nothing (or a loop of links)", out,
            "remove the link or point it at a folder, or choose another --out")


def _check_writable_folder(out: Path, folder: Path) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        raise output_problem(
            "output-not-writable", f"cannot write into {_shown(folder)}: permission denied",
            out, "choose a folder you can write to, or change the folder's permissions")


def check_output_folder(out: Path, names: Iterable[str] = (),
                        inputs: Sequence[Path] = ()) -> None:
    """Raise a diagnostic when ``out`` cannot be the folder for files named ``names``: a file
    (one of the run's inputs, or inside one), a folder that cannot be written, a name that is a
    folder there, or one of the run's inputs there."""
    try:
        _check_output_folder(out, names, inputs)
    except OSError as exc:  # a path the system cannot even look at (a name too long)
        raise os_problem(exc, out) from None


def _check_output_folder(out: Path, names: Iterable[str], inputs: Sequence[Path]) -> None:
    files = _input_files(inputs)
    existing = _nearest_existing(out)
    _check_not_a_broken_link(out, existing)
    if not existing.is_dir():
        given = _same_file(existing, files)
        if existing == Path(os.path.abspath(out)):
            if given is not None:
                raise output_problem(
                    "output-overwrites-input",
                    f"--out {_shown(out)} is one of this run's input files", out,
                    "--out names a folder for the results: choose a new or empty one")
            raise output_problem(
                "output-not-a-folder", f"--out {_shown(out)} is a file, not a folder", out,
                "--out names a folder for the results: choose a new one, or remove the file")
        what = "the input file" if given is not None else "the file"
        raise output_problem(
            "output-not-a-folder",
            f"--out {_shown(out)} is inside {what} {_shown(existing)}, which is not a folder",
            out, "--out names a folder for the results: choose one outside any file")
    _check_writable_folder(out, existing)
    for name in names:
        target = out / name
        if target.is_dir():
            raise output_problem(
                "output-is-a-folder", f"cannot write {_shown(target)}: it is a folder", target,
                f"remove or rename the folder {_shown(target)}, or choose another --out")
        given = _same_file(target, files)
        if given is not None:
            raise _overwrites_input(target, given)


def _overwrites_input(target: Path, given: Path) -> MasteryError:
    also = "" if _shown(given) == _shown(target) else f" (as {_shown(given)})"
    return output_problem(
        "output-overwrites-input",
        f"writing {_shown(target)} would overwrite one of this run's inputs{also}", target,
        "choose another --out, or move the input elsewhere first")


def check_output_file(path: Path, inputs: Sequence[Path] = ()) -> None:
    """Raise a diagnostic when the single output file ``path`` cannot be written: a folder,
    inside a file, in a folder that cannot be written, or one of the run's inputs."""
    try:
        _check_output_file(path, inputs)
    except OSError as exc:  # a path the system cannot even look at (a name too long)
        raise os_problem(exc, path) from None


def _check_output_file(path: Path, inputs: Sequence[Path]) -> None:
    if path.is_dir():
        raise output_problem(
            "output-is-a-folder", f"--out {_shown(path)} is a folder, not a file", path,
            f"name the file to write, e.g. --out {_shown(path / 'export')}.<ext>")
    _check_not_a_broken_link(path, _nearest_existing(path.parent))
    if os.path.exists(path) and not os.path.isfile(path):
        # Replacing a device (/dev/null) or a pipe with a file would break it for everyone.
        raise output_problem(
            "output-not-a-file", f"--out {_shown(path)} is not a regular file (a device, "
            "a pipe or a socket)", path, "write to a file, then copy it where it should go")
    given = _same_file(path, _input_files(inputs))
    if given is not None:
        raise output_problem(
            "output-overwrites-input",
            f"--out {_shown(path)} is one of this run's input files", path,
            "choose another file name for the output")
    existing = _nearest_existing(path.parent)
    if not existing.is_dir():
        raise output_problem(
            "output-not-a-folder",
            f"--out {_shown(path)} is inside {_shown(existing)}, which is a file, not a folder",
            path, "choose a file name in a folder")
    _check_writable_folder(path, existing)


def os_problem(exc: OSError, path: Path) -> MasteryError:
    """An OSError met while writing ``path``, as the diagnostic of its kind (said of ``path``:
    the file named in ``exc`` may be a temporary one)."""
    where = path
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return output_problem("output-not-writable",
                              f"cannot write {_shown(where)}: {exc.strerror}", where,
                              "choose a folder you can write to, or change its permissions")
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return output_problem("output-not-a-folder",
                              f"cannot write {_shown(where)}: a file is in the way "
                              f"({exc.strerror})", where,
                              "a folder on the output path is a file: choose another --out")
    if exc.errno in (errno.EISDIR, errno.ENOTEMPTY):
        return output_problem("output-is-a-folder",
                              f"cannot write {_shown(where)}: it is a folder", where,
                              "remove or rename the folder, or choose another --out")
    hint = ("a name in the path is too long for the file system: choose a shorter one"
            if exc.errno == errno.ENAMETOOLONG
            else "check the disk (space, quota) and the path, then run again")
    return output_problem("output-failed", f"cannot write {_shown(where)}: {exc.strerror}",
                          where, hint)


def write_output_file(path: Path, data: bytes | str, inputs: Sequence[Path] = ()) -> None:
    """The one output file ``path`` (``export --out FILE``), checked and written atomically:
    its temporary file is beside it and gone whatever happens."""
    check_output_file(path, inputs)
    try:
        write_bytes_atomic(path, data.encode("utf-8") if isinstance(data, str) else data)
    except OSError as exc:
        raise os_problem(exc, path) from None


class OutputFolder:
    """The files of one run, put into ``out`` all together or not at all.

    Everything is written into `staging`, a hidden folder made inside ``out`` (``out`` and
    its parents are made when missing), under the names the files will have in ``out``
    (`path`). `commit` then moves them into place; if one cannot be moved, those moved
    already are put back (with the files they replaced), so ``out`` holds either all of the
    new files or what it held before. Nothing is left behind: the staging folder goes, and so
    do the folders this run made, when it fails. Hidden files (names starting with '.') in
    the staging folder are temporary files of their own and are not results. Files of ``out``
    that the run does not write again are kept.
    """

    def __init__(self, out: Path, *, names: Iterable[str] = (),
                 inputs: Sequence[Path] = ()) -> None:
        self.out = out
        self.inputs = list(inputs)
        self.names = list(names)  # (the files' order in `commit`'s answer: these first)
        check_output_folder(out, self.names, self.inputs)
        self._made: list[Path] = []
        try:
            self._make_folders(out)
            self.staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, suffix=STAGING_SUFFIX,
                                                 dir=out))
        except OSError as exc:
            self._remove_made()
            raise os_problem(exc, out) from None
        self._open = True

    def _make_folders(self, folder: Path) -> None:
        """``folder`` and its missing parents, each remembered (to go again on failure)."""
        absolute = Path(os.path.abspath(folder))
        for parent in reversed([absolute, *absolute.parents]):
            if not os.path.lexists(parent):
                parent.mkdir()
                self._made.append(parent)

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.discard()  # (nothing left after a commit)
        if isinstance(value, OSError) and isinstance(value.filename, str):
            # Writing a result failed (a full disk, a quota): said of the file in --out.
            try:
                inside = Path(value.filename).relative_to(self.staging)
            except ValueError:
                return  # not one of the results (reading an input): not this folder's to say
            if inside.name.startswith(".") and inside.name.endswith(".tmp"):
                # A PendingFile's temporary name (".progress.csv.x8k2.tmp"): its file's.
                inside = inside.with_name(inside.name[1:-len(".tmp")].rsplit(".", 1)[0])
            raise os_problem(value, self.out / inside) from None

    def path(self, name: str) -> Path:
        """Where to write the file that will be ``out/name`` (its folders made)."""
        staged = contained(self.staging, name)
        staged.parent.mkdir(parents=True, exist_ok=True)
        return staged

    def final(self, staged: Path) -> Path:
        """The path in ``out`` of the file written at ``staged`` (relative or absolute, as
        ``out`` was given or not: a writer may hand back either)."""
        inside = Path(os.path.abspath(staged)).relative_to(os.path.abspath(self.staging))
        return self.out / inside

    def staged(self) -> list[Path]:
        """The results written so far, relative to the staging folder: those named when the
        folder was made in that order, then the others in path order."""
        found = []
        for root, dirs, files in os.walk(self.staging):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            found += [Path(root, f).relative_to(self.staging) for f in files
                      if not f.startswith(".")]
        order = {Path(name): index for index, name in enumerate(self.names)}
        return sorted(found, key=lambda p: (order.get(p, len(order)), p))

    def commit(self) -> list[Path]:
        """Put every staged file in place, all of them or none; their paths in ``out``."""
        names = self.staged()
        files = _input_files(self.inputs)
        for name in names:  # what can be seen before anything moves
            target = self.out / name
            if target.is_dir() and not target.is_symlink():
                self.discard()
                raise output_problem(
                    "output-is-a-folder", f"cannot write {_shown(target)}: it is a folder",
                    target, f"remove or rename the folder {_shown(target)}, or choose "
                    "another --out")
            given = _same_file(target, files)
            if given is not None:
                self.discard()
                raise _overwrites_input(target, given)
        backups = self.staging / ".replaced"
        moved: list[tuple[Path, Path, Path | None]] = []  # (staged, target, old file kept)
        target = self.out
        try:
            for name in names:
                target = self.out / name
                self._make_folders(target.parent)
                old = None
                if os.path.lexists(target):
                    old = backups / name
                    old.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(target, old)
                moved.append((self.staging / name, target, old))
                os.replace(self.staging / name, target)
        except OSError as exc:
            self._roll_back(moved)
            self.discard()
            raise os_problem(exc, target) from None
        except BaseException:
            self._roll_back(moved)
            self.discard()
            raise
        self._made = []  # the folders hold results now
        self.discard()
        return [self.out / name for name in names]

    @staticmethod
    def _roll_back(moved: list[tuple[Path, Path, Path | None]]) -> None:
        for staged, target, old in reversed(moved):
            if not os.path.lexists(staged) and os.path.lexists(target):
                os.replace(target, staged)
            if old is not None:
                os.replace(old, target)

    def discard(self) -> None:
        """Remove the staging folder (and the folders this run made, when it fails)."""
        if not self._open:
            return
        self._open = False
        shutil.rmtree(self.staging, ignore_errors=True)
        self._remove_made()

    def _remove_made(self) -> None:
        for folder in reversed(self._made):
            try:
                folder.rmdir()
            except OSError:  # not empty (something else wrote there): kept
                break
        self._made = []
