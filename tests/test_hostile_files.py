"""Files that are not what they seem: pipes, devices and symbolic link loops where a file belongs.

Every command that reads a file is given, in each place it takes one, a named pipe (FIFO), a
character device (``/dev/null``) and a symbolic link that points at itself, by name and inside
a searched folder. Each must end at once with a located diagnostic (exit 1), never hang and
never report an internal error. Opening a FIFO for reading blocks until a writer comes, so a
regression would hang: every run has an alarm that fails it instead (the alarm interrupts the
blocked ``open``). ``/dev/null`` reads as empty, so reading it would not hang but would give the
wrong message. ``/dev/zero`` never ends and a read of it cannot be interrupted in time, so it is
tried in subprocesses with a timeout, a few places at once.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.inputs import (
    FOLDER_HINT,
    LOOP_HINT,
    NOT_REGULAR_HINT,
    NotARegularFile,
    check_regular,
    hint_for,
)

pytestmark = pytest.mark.skipif(
    not hasattr(os, "mkfifo") or not hasattr(signal, "SIGALRM"), reason="needs POSIX"
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FRAMEWORK = str(EXAMPLES / "framework")
GRADEBOOK = str(EXAMPLES / "gradebook" / "algebra1_fall.csv")
ALARM_SECONDS = 60  # generous: the machine may be busy; a hang is what it catches

KINDS = ("fifo", "device", "loop")

#: Where a command takes a file: (label, arguments with {} for the bad file, its suffix).
PLACES = (
    ("validate", ["validate", "{}"], "yaml"),
    ("grade-gradebook", ["grade", "{}", "--framework", FRAMEWORK, "--out", "out"], "csv"),
    ("grade-framework", ["grade", GRADEBOOK, "--framework", "{}", "--out", "out"], "yaml"),
    ("grade-policy", ["grade", GRADEBOOK, "--framework", FRAMEWORK, "--policy", "{}",
                      "--out", "out"], "yaml"),
    ("grade-canvas-outcomes", ["grade", GRADEBOOK, "--framework", FRAMEWORK,
                               "--canvas-outcomes", "{}", "--out", "out"], "csv"),
    ("explain-gradebook", ["explain", "0041066", "MATH.ALG.2", "{}", "--framework",
                           FRAMEWORK], "csv"),
    ("report-grades", ["report", "report-card", "--grades", "{}", "--framework", FRAMEWORK,
                       "--out", "out"], "json"),
    ("report-scores", ["report", "report-card", "{}", "--framework", FRAMEWORK,
                       "--out", "out"], "csv"),
    ("report-comments", ["report", "report-card", GRADEBOOK, "--framework", FRAMEWORK,
                         "--comments", "{}", "--out", "out"], "csv"),
    ("import-case", ["import", "case", "{}", "--out", "out"], "json"),
    ("import-moodle", ["import", "moodle", "{}", "--out", "out"], "csv"),
    ("export-moodle-framework", ["export", "moodle", "{}", "--out", "out.csv"], "yaml"),
    ("export-moodle-policy", ["export", "moodle", FRAMEWORK, "--policy", "{}",
                              "--out", "out.csv"], "yaml"),
    ("export-canvas-policy", ["export", "canvas-outcomes", FRAMEWORK, "--policy", "{}",
                              "--out", "out.csv"], "yaml"),
)

#: Commands that search a folder for *.yaml; the folder holds the example framework and the
#: bad file.
FOLDER_PLACES = (
    ("validate-folder", ["validate", "{}"]),
    ("grade-framework-folder", ["grade", GRADEBOOK, "--framework", "{}", "--out", "out"]),
)

MESSAGES = {
    "fifo": "not a regular file: it is a named pipe (FIFO)",
    "device": "not a regular file: it is a character device",
    "loop": "Too many levels of symbolic links",
}
HINTS = {"fifo": NOT_REGULAR_HINT, "device": NOT_REGULAR_HINT, "loop": LOOP_HINT}


def _make(kind: str, path: Path, device: str = "/dev/null") -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        os.symlink(device, path)
    else:
        os.symlink(path.name, path)  # a link to itself


class Hung(BaseException):
    """Raised by the alarm; not an Exception, so that no command's guard can catch it."""


@pytest.fixture
def alarm() -> Iterator[None]:
    def ring(signum: int, frame: object) -> None:
        raise Hung(f"still running after {ALARM_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(ALARM_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _assert_located(output: str, bad: str, kind: str, exit_code: int | None) -> None:
    assert "internal error" not in output and "Traceback" not in output, output
    assert exit_code == 1, output
    lines = output.splitlines()
    located = [i for i, line in enumerate(lines) if line.startswith(f"{bad}: error [")]
    assert located, output
    assert MESSAGES[kind] in lines[located[0]], output
    assert lines[located[0] + 1] == f"    hint: {HINTS[kind]}"


@pytest.mark.usefixtures("alarm")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("place", "template", "suffix"), PLACES, ids=[p[0] for p in PLACES])
def test_a_located_diagnostic_and_no_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, place: str,
    template: list[str], suffix: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    bad = f"bad.{suffix}"
    _make(kind, tmp_path / bad)
    result = CliRunner().invoke(app, [a.replace("{}", bad) for a in template])
    _assert_located(result.output, bad, kind, result.exit_code)
    assert sorted(p.name for p in tmp_path.iterdir()) == [bad], "nothing is written"


@pytest.mark.usefixtures("alarm")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("place", "template"), FOLDER_PLACES,
                         ids=[p[0] for p in FOLDER_PLACES])
def test_a_bad_file_in_a_searched_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, place: str,
    template: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    shutil.copytree(EXAMPLES / "framework", tmp_path / "framework")
    _make(kind, tmp_path / "framework" / "bad.yaml")
    result = CliRunner().invoke(app, [a.replace("{}", "framework") for a in template])
    _assert_located(result.output, "framework/bad.yaml", kind, result.exit_code)
    if place == "validate-folder":  # the other files are still read and checked
        assert result.stdout.splitlines()[-1] == "4 files checked: 1 error, 0 warnings"


def test_an_endless_device_is_never_read(tmp_path: Path) -> None:
    """A link to /dev/zero as a gradebook, a framework file and in a searched folder."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    shutil.copytree(EXAMPLES / "framework", tmp_path / "framework")
    _make("device", tmp_path / "framework" / "zero.yaml", "/dev/zero")
    _make("device", tmp_path / "zero.csv", "/dev/zero")
    runs = {
        "zero.csv": ["grade", "zero.csv", "--framework", FRAMEWORK, "--out", "out"],
        "framework/zero.yaml": ["validate", "framework"],
    }
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    started = {bad: subprocess.Popen(
        [sys.executable, "-m", "mastery_cli", *args], cwd=tmp_path, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for bad, args in runs.items()}
    for bad, process in started.items():
        try:
            out, err = process.communicate(timeout=ALARM_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            pytest.fail(f"mastery {' '.join(runs[bad])} hung on a link to /dev/zero")
        _assert_located(out + err, bad, "device", process.returncode)


# --- the checks themselves ----------------------------------------------------------------------

def test_check_regular_names_what_the_path_is(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(NotARegularFile, match="named pipe"):
        check_regular(tmp_path / "pipe")
    with pytest.raises(NotARegularFile, match="folder") as folder:
        check_regular(tmp_path)
    assert hint_for(folder.value) == FOLDER_HINT
    (tmp_path / "file").write_text("x")
    assert check_regular(tmp_path / "file").st_size == 1


def test_a_loop_through_two_links_is_an_os_error(tmp_path: Path) -> None:
    from mastery_cli.inputs import resolved

    os.symlink("b.yaml", tmp_path / "a.yaml")
    os.symlink("a.yaml", tmp_path / "b.yaml")
    with pytest.raises(OSError, match="symbolic links"):
        check_regular(tmp_path / "a.yaml")
    with pytest.raises(OSError, match="symbolic links"):
        resolved(tmp_path / "a.yaml")


def test_a_link_loop_named_twice_is_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from mastery_cli.cli import app

    os.symlink("b.yaml", tmp_path / "a.yaml")
    os.symlink("a.yaml", tmp_path / "b.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    result = CliRunner().invoke(app, ["validate", "a.yaml", "a.yaml", "b.yaml"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "a.yaml: error [file-unreadable] cannot read the file: Too many levels of symbolic links",
        f"    hint: {LOOP_HINT}",
        "b.yaml: error [file-unreadable] cannot read the file: Too many levels of symbolic links",
        f"    hint: {LOOP_HINT}",
        "0 files checked: 2 errors, 0 warnings",
    ]
