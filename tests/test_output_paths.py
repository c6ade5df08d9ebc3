"""Output paths, by class, for every command that writes: a bad --out is a located diagnostic
(exit 2), never FileExistsError, PermissionError, NotADirectoryError or IsADirectoryError as an
internal error; a run's files are put in place all together or not at all; no temporary file
is ever left behind; an output that would overwrite one of the run's inputs is refused.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastery_cli import output
from mastery_cli.cli import app
from mastery_cli.diagnostics import MasteryError
from mastery_cli.output import OutputFolder

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def invoke(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    assert "internal error" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def codes(text: str) -> set[str]:
    return {part.split("]")[0] for part in text.split("error [")[1:]}


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Inputs the commands read (copies: a test that fails must not touch the examples):
    the framework, the policy, a gradebook, grades.json, a CASE package, a Moodle CSV."""
    base = tmp_path_factory.mktemp("sources")
    shutil.copytree(EXAMPLES / "framework", base / "framework")
    shutil.copy(EXAMPLES / "policy.yaml", base / "policy.yaml")
    shutil.copy(EXAMPLES / "gradebook" / "algebra1_fall.csv", base / "scores.csv")
    found = {"framework": base / "framework", "policy": base / "policy.yaml",
             "scores": base / "scores.csv", "grades": base / "grades",
             "case": base / "package.json", "moodle": base / "framework.csv"}
    code, text = invoke("grade", found["scores"], "--framework", found["framework"],
                        "--policy", found["policy"], "--format", "json", "-q", "--out",
                        found["grades"])
    assert code == 0, text
    for kind in ("case", "moodle"):
        code, text = invoke("export", kind, found["framework"], "--out", found[kind])
        assert code == 0, text
    return found


@dataclass(frozen=True)
class Command:
    """A writing command: its arguments for an --out, and the input file it reads (if any)."""

    name: str
    args: Callable[[dict[str, Path], Path], list[str | Path]]
    input_file: Callable[[dict[str, Path]], Path | None]


FOLDER_COMMANDS = [
    Command("grade", lambda s, out: ["grade", s["scores"], "--framework", s["framework"],
                                     "--policy", s["policy"], "-q", "--out", out],
            lambda s: s["scores"]),
    Command("grade-json", lambda s, out: ["grade", s["scores"], "--framework", s["framework"],
                                          "-q", "--format", "json", "--out", out],
            lambda s: s["scores"]),
    Command("report", lambda s, out: ["report", "class-summary", "--grades", s["grades"],
                                      "--framework", s["framework"], "-q", "--out", out],
            lambda s: s["grades"] / "grades.json"),
    Command("schema", lambda s, out: ["schema", "--out", out], lambda s: None),
    Command("import-case", lambda s, out: ["import", "case", s["case"], "--split", "-q",
                                           "--out", out], lambda s: s["case"]),
    Command("import-moodle", lambda s, out: ["import", "moodle", s["moodle"], "--split", "-q",
                                             "--out", out], lambda s: s["moodle"]),
]
FILE_COMMANDS = [
    Command("export-case", lambda s, out: ["export", "case", s["framework"], "--out", out],
            lambda s: s["framework"] / "habits.yaml"),
    Command("export-moodle", lambda s, out: ["export", "moodle", s["framework"], "--policy",
                                             s["policy"], "--out", out], lambda s: s["policy"]),
    Command("export-canvas", lambda s, out: ["export", "canvas-outcomes", s["framework"],
                                             "--policy", s["policy"], "--out", out],
            lambda s: s["policy"]),
]
folder_commands = pytest.mark.parametrize("command", FOLDER_COMMANDS, ids=lambda c: c.name)
file_commands = pytest.mark.parametrize("command", FILE_COMMANDS, ids=lambda c: c.name)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """Temporary files or folders anywhere under ``folder``."""
    return [p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.name.startswith(".") or p.name.endswith(".tmp")]


# -- folder outputs ---------------------------------------------------------------------------


@folder_commands
def test_a_run_writes_its_files_and_leaves_nothing_else(
        command: Command, sources: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "new" / "out"
    code, text = invoke(*command.args(sources, out))
    assert code == 0, text
    assert tree(out)
    assert leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]


@folder_commands
def test_a_relative_out_is_written_too(command: Command, sources: dict[str, Path],
                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `make demo` gives `--out out/...`: the files a writer hands back may be absolute.
    monkeypatch.chdir(tmp_path)
    code, text = invoke(*command.args(sources, Path("new") / "out"))
    assert code == 0, text
    assert tree(tmp_path / "new" / "out")
    assert leftovers(tmp_path) == []


@folder_commands
def test_out_that_is_a_file_is_refused(command: Command, sources: dict[str, Path],
                                       tmp_path: Path) -> None:
    out = tmp_path / "results"
    out.write_text("keep me\n")
    code, text = invoke(*command.args(sources, out))
    assert code == 2, text
    assert codes(text) == {"output-not-a-folder"}
    assert "results is a file, not a folder" in text and "hint:" in text
    assert out.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


@folder_commands
def test_out_inside_a_file_is_refused(command: Command, sources: dict[str, Path],
                                      tmp_path: Path) -> None:
    (tmp_path / "results").write_text("keep me\n")
    code, text = invoke(*command.args(sources, tmp_path / "results" / "sub"))
    assert code == 2, text
    assert codes(text) == {"output-not-a-folder"}
    assert "which is not a folder" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


@folder_commands
def test_out_that_is_the_input_file_is_refused(command: Command, sources: dict[str, Path],
                                               tmp_path: Path) -> None:
    source = command.input_file(sources)
    if source is None:
        pytest.skip(f"{command.name} reads no input file")
    before = source.read_bytes()
    code, text = invoke(*command.args(sources, source))
    assert code == 2, text
    assert codes(text) == {"output-overwrites-input"}
    code, text = invoke(*command.args(sources, source / "inside"))
    assert code == 2, text
    assert codes(text) == {"output-not-a-folder"}
    assert "inside the input file" in text
    assert source.read_bytes() == before


@folder_commands
def test_a_result_name_that_is_a_folder_is_refused(
        command: Command, sources: dict[str, Path], tmp_path: Path) -> None:
    code, text = invoke(*command.args(sources, tmp_path / "first"))
    assert code == 0, text
    for name in tree(tmp_path / "first"):
        out = tmp_path / "second" / name.replace("/", "_")
        (out / name).mkdir(parents=True)  # out/progress.csv/
        (out / name / "inside.txt").write_text("mine\n")
        code, text = invoke(*command.args(sources, out))
        assert code == 2, (name, text)
        assert codes(text) == {"output-is-a-folder"}, (name, text)
        assert f"{name}: it is a folder" in text
        assert tree(out) == {f"{name}/inside.txt": b"mine\n"}  # nothing else written
        break  # one name each (the first in order): every command reaches the same check


@folder_commands
def test_a_read_only_folder_is_refused(command: Command, sources: dict[str, Path],
                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "locked"
    out.mkdir()
    real_access = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if Path(str(path)) == out and mode & os.W_OK:
            return False  # what a read-only folder answers (root is never refused: simulated)
        return real_access(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(output.os, "access", access)
    code, text = invoke(*command.args(sources, out))
    assert code == 2, text
    assert codes(text) == {"output-not-writable"}
    assert "permission denied" in text
    assert list(out.iterdir()) == []


@folder_commands
def test_a_folder_the_system_refuses_is_a_diagnostic(
        command: Command, sources: dict[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The check passed (as root it always does), then the system says no."""
    def refuse(*args: object, **kwargs: object) -> str:
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "out"))

    monkeypatch.setattr(output.tempfile, "mkdtemp", refuse)
    code, text = invoke(*command.args(sources, tmp_path / "deep" / "out"))
    assert code == 2, text
    assert codes(text) == {"output-not-writable"}
    assert list(tmp_path.iterdir()) == []  # the folders made for it are gone again


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into read-only folders (simulated above)")
@folder_commands
def test_a_read_only_folder_is_refused_for_real(command: Command, sources: dict[str, Path],
                                                tmp_path: Path) -> None:
    out = tmp_path / "locked"
    out.mkdir()
    out.chmod(0o555)
    try:
        code, text = invoke(*command.args(sources, out))
    finally:
        out.chmod(0o755)
    assert code == 2, text
    assert codes(text) == {"output-not-writable"}
    assert list(out.iterdir()) == []


# -- all together or not at all ---------------------------------------------------------------


@folder_commands
def test_a_failure_while_putting_files_in_place_leaves_the_previous_outputs(
        command: Command, sources: dict[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    code, text = invoke(*command.args(sources, out))
    assert code == 0, text
    (out / "notes.txt").write_text("the teacher's own file\n")
    before = tree(out)
    real_replace = os.replace
    moved: list[str] = []

    def replace(source: object, target: object) -> None:
        if output.STAGING_PREFIX in str(source) and output.STAGING_PREFIX not in str(target):
            moved.append(str(target))
            if len(moved) == 2:  # the second result: the first is in place already
                raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real_replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(output.os, "replace", replace)
    code, text = invoke(*command.args(sources, out))
    assert code == 2, text
    assert codes(text) == {"output-failed"}
    assert "No space left on device" in text
    assert len(set(moved[:2])) == 2  # (then the roll-back puts the files back)
    assert tree(out) == before  # the first file was put back as it was
    assert leftovers(tmp_path) == []


def test_a_failure_while_writing_leaves_the_previous_outputs(
        sources: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that stops half-way (here a bug, after the five CSV files are written) changes
    nothing in --out."""
    out = tmp_path / "out"
    command = FOLDER_COMMANDS[1]  # grade --format json: five CSV files, then grades.json
    code, text = invoke(*command.args(sources, out))
    assert code == 0, text
    before = tree(out)
    from mastery_cli.grading import json_output

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("half-way")

    monkeypatch.setattr(json_output, "grades_json_chunks", broken)
    result = CliRunner().invoke(app, [str(a) for a in command.args(sources, out)])
    assert result.exit_code == 2, result.output
    assert "internal error: RuntimeError: half-way" in result.output
    assert tree(out) == before
    assert leftovers(tmp_path) == []


def test_a_full_disk_while_writing_a_result_names_the_result(
        sources: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    code, text = invoke(*FOLDER_COMMANDS[0].args(sources, out))
    assert code == 0, text
    before = tree(out)
    from mastery_cli.grading.engine import sink

    real_write = sink.write_chunks

    def write(handle: Any, chunks: Any) -> None:
        if Path(handle.name).name == "progress.csv":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(handle, chunks)

    monkeypatch.setattr(sink, "write_chunks", write)
    code, text = invoke(*FOLDER_COMMANDS[0].args(sources, out))
    assert code == 2, text
    assert codes(text) == {"output-failed"}
    assert f"cannot write {out / 'progress.csv'}: No space left on device" in text
    assert tree(out) == before
    assert leftovers(tmp_path) == []


def test_an_output_that_would_overwrite_an_input_is_refused(sources: dict[str, Path],
                                                            tmp_path: Path) -> None:
    """Grading last run's target_grades.csv into the same folder would overwrite it."""
    out = tmp_path / "out"
    code, text = invoke(*FOLDER_COMMANDS[0].args(sources, out))
    assert code == 0, text
    before = tree(out)
    code, text = invoke("grade", out / "target_grades.csv", "--framework",
                        sources["framework"], "-q", "--out", out)
    assert code == 2, text
    assert codes(text) == {"output-overwrites-input"}
    assert "target_grades.csv would overwrite one of this run's inputs" in text
    assert tree(out) == before


def test_report_documents_of_earlier_runs_are_kept_and_listed(
        sources: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "reports"
    for kind in ("class-summary", "i-can"):
        code, text = invoke("report", kind, "--grades", sources["grades"], "--framework",
                            sources["framework"], "-q", "--out", out)
        assert code == 0, text
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "class-summaries/" in index and "i-can/" in index
    assert leftovers(out) == []


# -- one output file (export) -----------------------------------------------------------------


@file_commands
def test_an_export_writes_its_file_and_nothing_else(command: Command, sources: dict[str, Path],
                                                    tmp_path: Path) -> None:
    out = tmp_path / "new" / "export.out"
    code, text = invoke(*command.args(sources, out))
    assert code == 0, text
    assert [p.name for p in tmp_path.rglob("*")] == ["new", "export.out"]


@file_commands
def test_an_export_into_a_folder_is_refused(command: Command, sources: dict[str, Path],
                                            tmp_path: Path) -> None:
    code, text = invoke(*command.args(sources, tmp_path))
    assert code == 2, text
    assert codes(text) == {"output-is-a-folder"}
    assert "is a folder, not a file" in text
    assert list(tmp_path.iterdir()) == []


@file_commands
def test_an_export_inside_a_file_is_refused(command: Command, sources: dict[str, Path],
                                            tmp_path: Path) -> None:
    (tmp_path / "file").write_text("keep me\n")
    code, text = invoke(*command.args(sources, tmp_path / "file" / "export.out"))
    assert code == 2, text
    assert codes(text) == {"output-not-a-folder"}
    assert (tmp_path / "file").read_text() == "keep me\n"


@file_commands
def test_an_export_over_its_input_is_refused(command: Command, sources: dict[str, Path],
                                             tmp_path: Path) -> None:
    source = command.input_file(sources)
    assert source is not None
    before = source.read_bytes()
    code, text = invoke(*command.args(sources, source))
    assert code == 2, text
    assert codes(text) == {"output-overwrites-input"}
    assert source.read_bytes() == before


@file_commands
def test_an_export_into_a_read_only_folder_is_refused(
        command: Command, sources: dict[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_access = os.access
    monkeypatch.setattr(output.os, "access", lambda path, mode, **kw: False if Path(
        str(path)) == tmp_path and mode & os.W_OK else real_access(path, mode, **kw))
    code, text = invoke(*command.args(sources, tmp_path / "export.out"))
    assert code == 2, text
    assert codes(text) == {"output-not-writable"}
    assert list(tmp_path.iterdir()) == []


@file_commands
def test_an_export_that_fails_keeps_the_old_file_and_no_temporary(
        command: Command, sources: dict[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "export.out"
    out.write_text("last week's\n")

    def full_disk(source: object, target: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(source))

    monkeypatch.setattr(output.os, "replace", full_disk)
    code, text = invoke(*command.args(sources, out))
    assert code == 2, text
    assert codes(text) == {"output-failed"}
    assert f"cannot write {out}" in text
    assert [p.name for p in tmp_path.iterdir()] == ["export.out"]
    assert out.read_text() == "last week's\n"


# -- the console script and the library ------------------------------------------------------------


def test_the_console_script_says_the_same(sources: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "results").write_text("x\n")
    run = subprocess.run(
        [sys.executable, "-m", "mastery_cli", "grade", str(sources["scores"]), "--framework",
         str(sources["framework"]), "-q", "--out", str(tmp_path / "results")],
        capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 2, run.stderr
    assert "error [output-not-a-folder]" in run.stderr
    assert "internal error" not in run.stderr


def test_an_output_folder_puts_back_what_it_replaced(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("old a\n")
    (out / "keep.txt").write_text("not ours\n")
    real_replace = os.replace
    calls: list[str] = []

    def replace(source: object, target: object) -> None:
        calls.append(Path(str(target)).name)
        if Path(str(target)).name == "b.csv":
            raise OSError(errno.EIO, "Input/output error", str(target))
        real_replace(source, target)  # type: ignore[arg-type]

    with OutputFolder(out, names=["a.csv", "b.csv"]) as folder:
        folder.path("a.csv").write_text("new a\n")
        folder.path("b.csv").write_text("new b\n")
        folder.path("sub/c.csv").write_text("new c\n")
        monkeypatch.setattr(output.os, "replace", replace)
        with pytest.raises(MasteryError) as raised:
            folder.commit()
    assert raised.value.usage
    assert [d.code for d in raised.value.diagnostics] == ["output-failed"]
    assert tree(out) == {"a.csv": b"old a\n", "keep.txt": b"not ours\n"}
    assert calls[:3] == ["a.csv", "a.csv", "b.csv"]  # a: kept aside, then the new one


def test_an_output_folder_that_is_not_committed_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    with pytest.raises(KeyboardInterrupt), OutputFolder(out, names=["x.csv"]) as folder:
        folder.path("x.csv").write_text("half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_an_output_folder_commits_in_the_order_named(tmp_path: Path) -> None:
    with OutputFolder(tmp_path, names=["z.csv", "a.csv"]) as folder:
        for name in ("a.csv", "z.csv", "m/x.html"):
            folder.path(name).write_text(name)
        written = folder.commit()
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["z.csv", "a.csv",
                                                                      "m/x.html"]
    assert json.dumps(tree(tmp_path), default=bytes.decode) == json.dumps(
        {"a.csv": "a.csv", "m/x.html": "m/x.html", "z.csv": "z.csv"})


@folder_commands
def test_out_through_a_link_to_nothing_or_a_loop_is_refused(
        command: Command, sources: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for out in (tmp_path / "dangling", tmp_path / "loop" / "sub"):
        code, text = invoke(*command.args(sources, out))
        assert code == 2, text
        assert codes(text) == {"output-not-a-folder"}
        assert "is a link to nothing (or a loop of links)" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling", "loop"]


@file_commands
def test_an_export_over_a_device_is_refused(command: Command, sources: dict[str, Path]) -> None:
    if not os.path.exists("/dev/null") or os.path.isfile("/dev/null"):
        pytest.skip("no /dev/null device here")
    code, text = invoke(*command.args(sources, Path("/dev/null")))
    assert code == 2, text
    assert codes(text) == {"output-not-a-file"}
    assert not os.path.isfile("/dev/null")


@pytest.mark.parametrize("command", [*FOLDER_COMMANDS, *FILE_COMMANDS], ids=lambda c: c.name)
def test_a_name_too_long_for_the_file_system_is_a_diagnostic(
        command: Command, sources: dict[str, Path], tmp_path: Path) -> None:
    for out in (tmp_path / ("a" * 300), tmp_path / ("a" * 300) / "b"):
        code, text = invoke(*command.args(sources, out))
        assert code == 2, text
        assert codes(text) == {"output-failed"}
        assert "too long" in text
    assert list(tmp_path.iterdir()) == []


def test_a_failed_commit_removes_the_folders_it_made(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kept.csv").write_text("old\n")
    real_replace = os.replace

    def replace(source: object, target: object) -> None:
        if Path(str(target)) == tmp_path / "y.csv":
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real_replace(source, target)  # type: ignore[arg-type]

    with OutputFolder(tmp_path) as folder:
        folder.path("sub/deeper/x.csv").write_text("x\n")
        folder.path("y.csv").write_text("y\n")
        monkeypatch.setattr(output.os, "replace", replace)
        with pytest.raises(MasteryError):
            folder.commit()
    assert tree(tmp_path) == {"kept.csv": b"old\n"}
    assert [p.name for p in tmp_path.iterdir()] == ["kept.csv"]
