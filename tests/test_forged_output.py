"""Output that cannot be forged or run: escaped diagnostics, shortened echoes, formula-safe
exports, and CASE text that no UTF-8 file can hold (lone surrogates)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.diagnostics import (
    ECHO_LIMIT,
    Diagnostic,
    Severity,
    Summary,
    printable,
    render,
    render_github,
    render_text,
    shortened,
)
from mastery_cli.interop.surrogates import REPLACEMENT, without_lone_surrogates
from mastery_cli.output import neutralize_formula

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SMALL_CASE = ROOT / "tests" / "data" / "interop" / "small-case.json"
runner = CliRunner()

#: Characters that would break a line, move the cursor or reorder text if printed raw.
HOSTILE = ["\n", "\r", "\x0b", "\x0c", "\x1b", "\x00", "\x7f", "\x85", "\u2028", "\u2029",
           "\u202e", "\u2066"]


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


# --- control characters -------------------------------------------------------------------------

@given(st.text(alphabet=st.sampled_from(["a", ":", " ", "%", *HOSTILE]), max_size=30))
def test_one_diagnostic_is_one_line_and_its_hint_the_next(text: str) -> None:
    d = Diagnostic(f"dir/{text}.yaml", 3, 4, "some-code", f"unknown key '{text}'",
                   Severity.ERROR, f"did you mean '{text}'?")
    for rendered, lines in ((render_text(d), 2), (render_github(d), 1)):
        assert len(rendered.splitlines()) == lines
        assert not any(c in rendered for c in HOSTILE if c != "\n")
        assert rendered.count("\n") == lines - 1


def test_escapes_read_like_python_repr() -> None:
    assert printable("a\nb\rc\td\x1be\x7f\u2028\u202e") == (
        "a\\nb\\rc\\td\\x1be\\x7f\\u2028\\u202e"
    )
    assert printable("Matemáticas — ok, 50% «done»") == "Matemáticas — ok, 50% «done»"


def test_a_forged_line_in_a_key_stays_inside_its_diagnostic() -> None:
    d = Diagnostic("forged.yaml", 5, 1, "schema-unknown-key",
                   "unknown key 'x\nforged.yaml:1:1: error [pwned] fake\n::error file=a::b'")
    assert render_text(d) == (
        "forged.yaml:5:1: error [schema-unknown-key] unknown key "
        "'x\\nforged.yaml:1:1: error [pwned] fake\\n::error file=a::b'"
    )
    assert render_github(d) == (
        "::error file=forged.yaml,line=5,col=1,title=schema-unknown-key::unknown key "
        "'x\\nforged.yaml:1:1: error [pwned] fake\\n::error file=a::b'"
    )


def test_json_keeps_the_exact_text() -> None:
    message = "unknown key 'x\nforged.yaml:1:1: error [pwned]\x1b[31m'"
    d = Diagnostic("a\nb.yaml", 1, 1, "schema-unknown-key", message)
    document = json.loads(render([d], Summary.of([d], 1), "json"))
    assert document["diagnostics"][0]["message"] == message
    assert document["diagnostics"][0]["path"] == "a\nb.yaml"


def test_validate_on_a_forged_key_prints_no_line_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("forged.yaml").write_text(
        'kind: framework\nschema_version: 1\nid: demo\ntitle: Demo\n'
        '"x\\nforged.yaml:1:1: error [pwned] fake\\n::error file=a.yaml::fake": 1\n',
        encoding="utf-8")
    for fmt in ("text", "github"):
        result = runner.invoke(app, ["validate", "--format", fmt, "forged.yaml"])
        assert result.exit_code == 1
        assert not any(line.startswith(("forged.yaml:1:1: error [pwned]", "::error file=a"))
                       for line in result.stdout.splitlines()), result.stdout
        assert "pwned" in result.stdout  # still shown, inside the real diagnostic


# --- long values --------------------------------------------------------------------------------

def test_shortened_keeps_short_text_and_says_how_long_the_rest_was() -> None:
    exact = "x" * ECHO_LIMIT
    assert shortened(exact) == exact
    assert shortened(exact + "y") == exact + "… (201 characters)"
    assert shortened("z" * 100_000) == "z" * ECHO_LIMIT + "… (100,000 characters)"


def _gradebook_with_huge_cells(folder: Path, size: int) -> tuple[Path, str]:
    big = "Z" * size
    header = "student_id,student_name,section,course,target,assessment,type,date,score,comment"
    rows = [
        header,
        f"0041001,Pat,ALG1-P1,ALG1,MATH.NQ.1,A,diagnostic,2026-08-27,{big},",
        f"0041001,Pat,ALG1-P1,ALG1,{big},A,diagnostic,2026-08-27,2,",
        f"0041001,Pat,ALG1-P1,ALG1,MATH.NQ.1,A,diagnostic,{big},2,",
        f"0041001,Pat,ALG1-P1,ALG1,MATH.NQ.1,{big},{big.lower()},2026-08-27,3,",
    ]
    path = folder / "huge.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path, big


def test_grade_echoes_a_huge_cell_shortened_and_keeps_it_whole_in_rejects(
    tmp_path: Path
) -> None:
    path, big = _gradebook_with_huge_cells(tmp_path, 100_000)
    out = tmp_path / "out"
    result = runner.invoke(app, ["grade", str(path), "--framework",
                                 str(EXAMPLES / "framework"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(result.output) < 5_000  # 300 KB before
    assert result.output.count("… (100,000 characters)") == 3  # score, target, date
    with (out / "rejects.csv").open(encoding="utf-8", newline="") as handle:
        rejects = list(csv.DictReader(handle))
    assert [r["reason"] for r in rejects] == ["non-numeric-score", "unknown-target", "bad-date"]
    # The worklist keeps the cell as it is, to be found and fixed; the message quotes it short.
    assert all(r["value"] == big for r in rejects)
    assert all(len(r["message"]) < 1_000 for r in rejects)


def test_explain_echoes_huge_cells_shortened(tmp_path: Path) -> None:
    path, _ = _gradebook_with_huge_cells(tmp_path, 100_000)
    result = runner.invoke(app, ["explain", "0041001", "MATH.NQ.1", str(path), "--framework",
                                 str(EXAMPLES / "framework")])
    assert result.exit_code == 0, result.output
    assert len(result.output) < 10_000  # 700 KB before
    assert "Rows of this student for this target: 3 = 1 used + 0 set aside + 2 rejected." in (
        result.output)
    assert result.output.count("… (100,000 characters)") >= 5


# --- formula cells in exports -------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A2)", "\tTabbed", "\rReturned"]


def _framework_with_formulas(folder: Path) -> Path:
    target = folder / "framework"
    shutil.copytree(EXAMPLES / "framework", target)
    path = target / "mathematics.yaml"
    text = path.read_text(encoding="utf-8")
    replacements = [("en: Number and Quantity", FORMULAS[0]), ("es: Número y cantidad",
                                                                FORMULAS[1])]
    for old, formula in replacements:
        assert old in text
        text = text.replace(old, f"{old.split(':')[0]}: {json.dumps(formula)}", 1)
    path.write_text(text, encoding="utf-8")
    return target


@pytest.mark.parametrize("command", ["moodle", "canvas-outcomes"])
def test_exports_neutralise_formula_cells(tmp_path: Path, command: str) -> None:
    framework = _framework_with_formulas(tmp_path)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["export", command, str(framework), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    cells = [cell for row in rows for cell in row]
    assert f"'{FORMULAS[0]}" in cells
    assert not [c for c in cells if c and c[0] in "=+-@\t\r" and neutralize_formula(c) != c]


def test_exports_keep_plain_cells_and_negative_numbers_as_they_are() -> None:
    for formula in FORMULAS:
        assert neutralize_formula(formula) in (formula, "'" + formula)
    assert neutralize_formula("-2") == "-2"
    assert neutralize_formula("-2+3") == "'-2+3"
    assert neutralize_formula("Plain") == "Plain"


# --- lone surrogates in CASE text ---------------------------------------------------------------

def _lone_count(values: list[str]) -> int:
    """The oracle: surrogate code points left in the strings ``json.loads`` gives (JSON joins
    a high and a low half written next to each other into one character)."""
    return sum(1 for value in values for c in value if 0xD800 <= ord(c) <= 0xDFFF)


@given(st.lists(st.text(alphabet=st.sampled_from(
    ["a", "\\", '"', "\n", "\ud800", "\udbff", "\udc00", "\udfff", "\U0001f600"]),
    max_size=8), max_size=6))
def test_every_lone_surrogate_is_replaced_and_located(values: list[str]) -> None:
    text = json.dumps({"items": values, "key\ud800": "v"}, indent=1)
    data = json.loads(text)
    expected = _lone_count(data["items"]) + 1
    cleaned, warnings = without_lone_surrogates(data, text, "package.json")
    assert len(warnings) == expected
    json.dumps(cleaned, ensure_ascii=False).encode("utf-8")  # nothing left that cannot be written
    assert "key" + REPLACEMENT in cleaned
    lines = text.splitlines()
    for warning in warnings:
        assert warning.code == "invalid-character" and warning.line and warning.column
        escape = warning.message.split("'")[1]
        assert lines[warning.line - 1][warning.column - 1:].startswith(escape)


def test_pairs_and_escaped_backslashes_are_not_lone() -> None:
    text = r'["\ud83d\ude00", "\\ud800", "\\\ud800"]'
    cleaned, warnings = without_lone_surrogates(json.loads(text), text, "p.json")
    assert cleaned == ["\U0001f600", "\\ud800", "\\" + REPLACEMENT]
    assert [(w.line, w.column) for w in warnings] == [(1, 32)]


def test_import_case_with_a_lone_surrogate_writes_files_that_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = json.loads(SMALL_CASE.read_text(encoding="utf-8"))
    package["CFItems"][0]["fullStatement"] = "Bad \ud800 text"
    package["CFDocument"]["title"] = "Doc \udfff"
    (tmp_path / "bad.json").write_text(json.dumps(package), encoding="ascii")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["import", "case", "bad.json", "--out", "out"])
    assert result.exit_code == 0, result.output
    assert "internal error" not in result.output
    located = [line for line in result.output.splitlines()
               if line.startswith("bad.json:1:") and "[invalid-character]" in line]
    assert len(located) == 2
    written = "".join(p.read_text(encoding="utf-8") for p in Path("out").rglob("*.yaml"))
    assert f"Bad {REPLACEMENT} text" in written and f"Doc {REPLACEMENT}" in written
    assert runner.invoke(app, ["validate", "out"]).exit_code == 0


def test_a_file_name_with_a_line_break_is_escaped_where_it_is_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    Path("x\n::error::forged.yaml").write_text("not: mastery\n", encoding="utf-8")
    Path("y\n::error::empty.yaml").write_text("kind: framework\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "--verbose", "."])
    assert result.exit_code == 1
    assert "skipped x\\n::error::forged.yaml: no 'kind' key" in result.stderr.splitlines()
    assert result.stdout.splitlines()[0].startswith("y\\n::error::empty.yaml:")
    assert not any(line.startswith("::error") for line in (result.stdout + result.stderr)
                   .splitlines())
