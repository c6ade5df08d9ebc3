"""Exemplars where people look: validate checks their files and (under strict) the levels
without one; `report exemplars` lists the bank and what to collect next; "I can" sheets show
them next to the level they exemplify."""

from __future__ import annotations

import base64
import csv
import shutil
from pathlib import Path

from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.validation import validate_paths

REPO = Path(__file__).resolve().parents[1]
FRAMEWORK = REPO / "examples" / "framework"
RUBRICS = REPO / "examples" / "rubrics"
#: A 1x1 PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
    "rkJggg==")


def _rubric(tmp_path: Path, exemplars: str) -> Path:
    rubric = tmp_path / "rubrics" / "argument.yaml"
    rubric.parent.mkdir(parents=True, exist_ok=True)
    rubric.write_text(
        "kind: rubric\nschema_version: 1\nid: argument\nframework: riverside-hs\n"
        "title: Argument\ndesign: indicators\ncriteria:\n"
        "  - id: claim\n    target: SCI.ARG.2\n" + exemplars, encoding="utf-8")
    return rubric


def _codes(paths: list[Path], strict: bool = False) -> list[str]:
    result = validate_paths(paths, strict=strict)
    return [f"{Path(d.path).name}:{d.line} [{d.code}] {d.message}" for d in result.diagnostics]


def test_a_missing_exemplar_file_is_an_error_at_its_path(tmp_path: Path) -> None:
    rubric = _rubric(tmp_path, "    exemplars:\n      - {path: work/level3.png, level: 3}\n")
    lines = _codes([rubric, FRAMEWORK])
    assert any(line.startswith("argument.yaml:11 [exemplar-not-found]") for line in lines), lines
    (tmp_path / "rubrics" / "work").mkdir()
    (tmp_path / "rubrics" / "work" / "level3.png").write_bytes(PIXEL)
    assert _codes([rubric, FRAMEWORK]) == []  # paths are relative to the rubric


def test_an_exemplar_off_the_scale_is_an_error(tmp_path: Path) -> None:
    rubric = _rubric(tmp_path, "    exemplars:\n      - {url: 'https://x.test/a', level: 7}\n")
    assert any("[unknown-level]" in line for line in _codes([rubric, FRAMEWORK]))


def test_levels_without_an_exemplar_are_warned_about_only_under_strict(tmp_path: Path) -> None:
    rubric = _rubric(tmp_path, "    exemplars:\n      - {url: 'https://x.test/a', level: 3}\n")
    assert _codes([rubric, FRAMEWORK]) == []
    strict = _codes([rubric, FRAMEWORK], strict=True)
    assert strict == ["argument.yaml:10 [levels-without-exemplar] criterion 'claim' has no "
                      "exemplar for levels 1, 2, 4"]


def test_report_exemplars_lists_the_bank_and_what_to_collect(tmp_path: Path) -> None:
    rubric = _rubric(tmp_path, "    exemplars:\n      - {path: work/level3.png, level: 3, "
                               "note: '<b>Strong</b> reasoning'}\n")
    (tmp_path / "rubrics" / "work").mkdir()
    (tmp_path / "rubrics" / "work" / "level3.png").write_bytes(PIXEL)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", "exemplars", "--framework", str(FRAMEWORK),
                                      "--rubric", str(rubric), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with (out / "exemplars.csv").open(encoding="utf-8") as handle:
        rows = [(r["target"], r["level"], r["exemplars"]) for r in csv.DictReader(handle)]
    assert rows == [("SCI.ARG.2", "1", ""), ("SCI.ARG.2", "2", ""),
                    ("SCI.ARG.2", "3", f"{tmp_path}/rubrics/work/level3.png"),
                    ("SCI.ARG.2", "4", "")]
    html = (out / "exemplars.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;Strong&lt;/b&gt; reasoning" in html
    assert 'src="data:image/png;base64,' in html  # the thumbnail travels with the document
    assert "SCI.ARG.2</a> Claim, evidence and reasoning: levels 1, 2, 4" in html
    assert "Targets no rubric scores" in html and "SCI.LIFE.1" in html


def test_report_exemplars_without_a_rubric_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "exemplars", "--framework", str(FRAMEWORK),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "[no-rubric]" in result.output


def test_i_can_sheets_show_exemplars_next_to_their_level(tmp_path: Path) -> None:
    grades = tmp_path / "grades"
    graded = CliRunner().invoke(app, [
        "grade", *sorted(str(p) for p in (REPO / "examples" / "gradebook").glob("*.csv")),
        "--framework", str(FRAMEWORK), "--policy", str(REPO / "examples" / "policy.yaml"),
        "--out", str(grades), "--format", "json", "--quiet"])
    assert graded.exit_code == 0, graded.output
    for lang, heading in (("en", "What this level looks like:"),
                          ("es", "Así es el trabajo de este nivel:")):
        out = tmp_path / lang
        result = CliRunner().invoke(app, [
            "report", "i-can", "--grades", str(grades), "--framework", str(FRAMEWORK),
            "--rubric", str(RUBRICS), "--out", str(out), "--lang", lang, "--quiet"])
        assert result.exit_code == 0, result.output
        html = (out / "i-can" / "BIO.html").read_text(encoding="utf-8")
        assert heading in html
        assert "lab-report-level3.md" in html
    plain = tmp_path / "plain"
    CliRunner().invoke(app, ["report", "i-can", "--grades", str(grades), "--framework",
                             str(FRAMEWORK), "--out", str(plain), "--quiet"])
    assert "What this level looks like" not in (plain / "i-can" / "BIO.html").read_text(
        encoding="utf-8")


def test_example_rubrics_validate(tmp_path: Path) -> None:
    copy = tmp_path / "examples"
    shutil.copytree(REPO / "examples", copy)
    assert [line for line in _codes([copy]) if "exemplar" in line] == []


def test_report_cards_show_exemplars_only_when_the_school_turns_them_on(tmp_path: Path
                                                                        ) -> None:
    grades = tmp_path / "grades"
    CliRunner().invoke(app, [
        "grade", str(REPO / "examples" / "gradebook" / "biology_fall.csv"), "--framework",
        str(FRAMEWORK), "--policy", str(REPO / "examples" / "policy.yaml"), "--out",
        str(grades), "--format", "json", "--quiet"])
    common = ["report", "report-card", "--grades", str(grades), "--framework", str(FRAMEWORK),
              "--student", "0041019", "--quiet", "--rubric", str(RUBRICS)]
    on = CliRunner().invoke(app, [*common, "--exemplars", "--out", str(tmp_path / "on")])
    off = CliRunner().invoke(app, [*common, "--out", str(tmp_path / "off")])
    assert on.exit_code == 0 and off.exit_code == 0, on.output + off.output
    shown = next((tmp_path / "on" / "report-cards").glob("*.html")).read_text(encoding="utf-8")
    hidden = next((tmp_path / "off" / "report-cards").glob("*.html")).read_text(encoding="utf-8")
    assert "What this level looks like:" in shown
    assert "What this level looks like:" not in hidden
    refused = CliRunner().invoke(app, ["report", "report-card", "--grades", str(grades),
                                       "--framework", str(FRAMEWORK), "--exemplars",
                                       "--out", str(tmp_path / "x")])
    assert refused.exit_code == 2 and "--exemplars needs --rubric" in refused.output
