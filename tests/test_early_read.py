"""The command line's early parse of the first file (mastery_cli/grading/early_read.py).

Whatever the file, a run that parsed it early must print, exit and write exactly what a run
without the early parse does (the typer path never starts one); for a readable CSV the early
parse must really be the one the reader uses.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastery_cli.cli.application import app
from mastery_cli.cli.fast_grade import fast_main
from mastery_cli.grading import early_read

REPO = Path(__file__).resolve().parents[1]
DATA = Path("tests/data/gradebooks")  # relative to REPO: outputs and messages name files alike
FRAMEWORK = ["--framework", str(DATA / "framework")]
RESULT_FILES = ("target_grades.csv", "competency_grades.csv", "course_grades.csv",
                "progress.csv", "rejects.csv")


@pytest.fixture(autouse=True)
def _every_file_is_read_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setattr(early_read, "EARLY_BYTES", 0)


def _outputs(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in RESULT_FILES
            if (folder / name).exists()}


def _special_file(tmp_path: Path, name: str) -> str:
    contents = {
        "blank.csv": b"  \r\n\xef\xbb\xbf\n",
        "workbook.csv": b"PK\x03\x04" + b"\x00" * 64,
        "nul.csv": b"student_id,target,score\n\x00\x01,T,3\n",
        "quoted-newline.csv": (b'student_id,student_name,target,score\n'
                               b'0012,"Garc\xc3\xada,\nAna",SCI.INQ.1,3\n'),
        # Windows-1252 only past the sniffer's sample: pyarrow's parse finds it (NotUtf8),
        # the early thread gives up and the reader reads the file again as Windows-1252.
        "late-cp1252.csv": (b"student_id,student_name,target,score\n"
                            + b"0012,Ana Garcia,SCI.INQ.1,3\n" * 4000
                            + b"0013,Jos\xe9 N\xfa\xf1ez,SCI.INQ.1,2\n"),
    }
    path = tmp_path / name
    path.write_bytes(contents[name])
    return str(path)


#: Files the early thread parses, and the reader then uses that parse.
PARSED_EARLY = ["long_basic.csv", "long_excel_eu.csv", "long_cp1252.csv", "long_tab.tsv",
                "wide.csv",
                "canvas_results_32.csv", "canvas_results_empty.csv", "canvas_lmgb.csv",
                "bad_rows.csv", "header_only.csv", "unknown_header.csv", "quoted-newline.csv"]
#: Files the early thread gives up on: the reader reads (and reports) them itself.
LEFT_TO_THE_READER = ["late-cp1252.csv", "empty.csv", "no-such-file.csv", "blank.csv",
                      "workbook.csv"]
#: Made in the test's folder (the others are in DATA, or missing on purpose).
SPECIAL = ("blank.csv", "workbook.csv", "nul.csv", "quoted-newline.csv", "late-cp1252.csv")


@pytest.mark.parametrize("name", [*PARSED_EARLY, *LEFT_TO_THE_READER, "nul.csv"])
def test_a_run_with_an_early_parse_is_a_run_without(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    file = _special_file(tmp_path, name) if name in SPECIAL else str(DATA / name)
    argv = ["grade", file, *FRAMEWORK, "--out", str(tmp_path / "out")]
    typer_result = CliRunner().invoke(app, argv)
    typer_files = _outputs(tmp_path / "out")
    for produced in typer_files:
        (tmp_path / "out" / produced).unlink()

    taken: list[early_read.Parsed | None] = []
    take = early_read.take

    def recorded_take(path: Path, part: early_read.Part = None) -> early_read.Parsed | None:
        taken.append(take(path, part))
        return taken[-1]

    monkeypatch.setattr(early_read, "take", recorded_take)
    code = fast_main(argv)
    captured = capsys.readouterr()

    assert (captured.out, captured.err, code) == (
        typer_result.stdout, typer_result.stderr, typer_result.exit_code)
    assert _outputs(tmp_path / "out") == typer_files
    assert "Traceback" not in captured.err
    assert len(taken) == 1  # the reader asked once for the file's early parse
    if name in PARSED_EARLY:
        assert taken[0] is not None
    elif name in LEFT_TO_THE_READER:
        assert taken[0] is None


def test_a_parse_is_taken_once(tmp_path: Path) -> None:
    first = REPO / DATA / "long_basic.csv"
    early_read.start(first)
    parsed = early_read.take(first)
    assert parsed is not None and parsed.records.count > 0
    assert early_read.take(first) is None  # taken: a file given twice is read again
    assert early_read.take(REPO / DATA / "wide.csv") is None  # never started


def test_a_parse_not_taken_is_forgotten_at_the_end_of_the_run(tmp_path: Path) -> None:
    # The framework is missing: the run ends before it reads the file it began to parse.
    code = fast_main(["grade", str(DATA / "long_basic.csv"), "--framework", "nope/",
                      "--out", str(tmp_path)])
    assert code == 1
    assert early_read.take(REPO / DATA / "long_basic.csv") is None
    assert not early_read._readings


def test_small_files_are_not_read_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(early_read, "EARLY_BYTES", 1 << 30)
    early_read.start(REPO / DATA / "long_basic.csv")
    assert early_read.take(REPO / DATA / "long_basic.csv") is None


def test_a_folder_or_a_missing_file_is_left_to_the_reader() -> None:
    early_read.start(REPO / DATA)
    early_read.start(REPO / DATA / "no-such-file.csv")
    assert early_read.take(REPO / DATA) is None
    assert early_read.take(REPO / DATA / "no-such-file.csv") is None
