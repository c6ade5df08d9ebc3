"""A corpus of hostile inputs run through every command (issue 15's "Done when").

The example school is the good base; each case mutates one input (a framework file, the policy,
a gradebook, a CASE package, a Moodle CSV, a grades.json, a comments file) and runs every command
that reads it through CliRunner. Every run must end with a documented exit code (0, 1 or 2), no
internal error or traceback, every error and warning line located (``path[:line[:col]]: severity
[code]``), nothing written outside ``--out``, and for ``grade`` the summary's row accounting
(rows read = used + set aside + rejected) intact.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GRADEBOOK_ROWS = 40  # enough rows for every kind of evidence, few enough to keep the corpus fast

DIAGNOSTIC_LINE = re.compile(r"\b(error|warning) \[[a-z0-9-]+\]")
LOCATED_LINE = re.compile(r"^\S[^\n]*?(:\d+(:\d+)?)?: (error|warning) \[[a-z0-9-]+\] ")
ACCOUNTING = re.compile(r"(\d+) rows? read = (\d+) used \+ (\d+) set aside \+ (\d+) rejected")


def _text_mutations(good: str) -> dict[str, bytes]:
    """Hostile versions of a text file, as bytes."""
    half = good[: len(good) // 2]
    return {
        "empty": b"",
        "truncated": half.encode(),
        "binary": bytes(range(256)) * 4,
        "nul-byte": good.encode()[:200] + b"\x00" + good.encode()[200:],
        "bom": b"\xef\xbb\xbf" + good.encode(),
        "utf16": good.encode("utf-16"),
        "latin1": (good + "\n# Tom\u00e1s\n").encode("latin-1", "replace"),
        "crlf": good.replace("\n", "\r\n").encode(),
        "lone-cr": good.replace("\n", "\r").encode(),
        "garbled": (half + "\x01\x7f\u202e{[\"'\n" + good[len(half) :]).encode(),
        "surrogate-escape": good.encode() + b"\xed\xa0\x80\n",
    }


# Each line refers to the one above nine times: 9**5 items if aliases were expanded naively.
_ANCHOR_BOMB = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"{name}: &{name} [{', '.join(['*' + before] * 9)}]\n".encode()
    for before, name in zip("abcd", "bcde", strict=True)
)


def _yaml_mutations(good: str) -> dict[str, bytes]:
    cases = _text_mutations(good)
    lines = good.splitlines()
    first_id = next((i for i, line in enumerate(lines) if re.match(r"\s*- id: ", line)), 0)

    def with_id(new_id: str) -> bytes:
        changed = list(lines)
        indent = changed[first_id].split("- id:")[0]
        changed[first_id] = f"{indent}- id: {json.dumps(new_id)}"
        return "\n".join(changed).encode()

    cases.update(
        {
            "kind-wrong": re.sub(r"(?m)^kind: .*$", "kind: gradebook", good, count=1).encode(),
            "kind-missing": re.sub(r"(?m)^kind: .*\n", "", good, count=1).encode(),
            "not-a-map": b"- just\n- a list\n",
            "scalar": b"42\n",
            "huge-int": re.sub(
                r"(?m)^schema_version: .*$", "schema_version: " + "9" * 5000, good
            ).encode()
            if "schema_version" in good
            else (good + "\nweight: " + "9" * 5000 + "\n").encode(),
            "hex-int": (good + "\nx: 0x" + "f" * 20000 + "\n").encode(),
            "nan": re.sub(r"\b\d+\.\d+\b", ".nan", good, count=3).encode(),
            "inf": re.sub(r"\b\d+\.\d+\b", "-.inf", good, count=3).encode(),
            "deep": ("a: " + "[" * 300 + "]" * 300 + "\n").encode(),
            "duplicate-keys": (good + "\n" + good.split("\n", 3)[1] + "\n").encode(),
            "tab-indent": good.replace("  ", "\t", 5).encode(),
            "id-newline": with_id("MATH.X\nforged.yaml:1:1: error [x] y"),
            "id-control": with_id("MATH.\x1b[31mX\x07"),
            "id-traversal": with_id("../../x"),
            "id-long": with_id("A" * 100_000),
            "anchor-bomb": _ANCHOR_BOMB,
            "python-tag": b"!!python/object/apply:os.system ['echo hi']\n",
        }
    )
    return cases


def _with_cell(good: str, column: str, value: str) -> bytes:
    """``good`` with ``column`` set to ``value`` in its first three rows."""
    records = list(csv.reader(io.StringIO(good)))
    index = records[0].index(column)
    for record in records[1:4]:
        record[index] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    return out.getvalue().encode()


def _csv_mutations(good: str) -> dict[str, bytes]:
    cases = _text_mutations(good)
    header, *rows = good.splitlines()
    columns = header.split(",")
    first = rows[0]

    def with_cell(column: str, value: str) -> bytes:
        return _with_cell(good, column, value)

    cases.update(
        {
            "header-only": (header + "\n").encode(),
            "duplicate-header": (
                header + "," + columns[0] + "\n" + "\n".join(r + ",x" for r in rows)
            ).encode(),
            "missing-column": "\n".join(
                ",".join(line.split(",")[1:]) for line in good.splitlines()
            ).encode(),
            "unbalanced-quote": (
                header + "\n" + first + ',"never closed\n' + "\n".join(rows[1:])
            ).encode(),
            "extra-cells": (header + "\n" + "\n".join(r + ",1,2,3" for r in rows)).encode(),
            "no-header": "\n".join(rows).encode(),
            "huge-field": (
                header + "\n" + first + "\n" + first.replace(",", ',"' + "x" * 200_000 + '",', 1)
            ).encode(),
        }
    )
    if "score" in columns:
        for name, value in {
            "score-nan": "NaN",
            "score-inf": "inf",
            "score-negative": "-3",
            "score-off-scale": "99",
            "score-huge": "9" * 5000,
            "score-exp": "1e400",
            "score-formula": '=HYPERLINK("http://x")',
        }.items():
            cases[name] = with_cell("score", value)
    if "student_id" in columns:
        cases["student-newline"] = with_cell("student_id", "00\nforged.csv:1:1: error [x] y")
        cases["student-traversal"] = with_cell("student_id", "../../x")
        cases["student-control"] = with_cell("student_id", "\x1b[2J\x00id")
    if "student_name" in columns:
        cases["name-formula"] = with_cell("student_name", "=cmd|' /C calc'!A0")
        cases["name-long"] = with_cell("student_name", "N" * 100_000)
    if "target" in columns:
        cases["target-unknown"] = with_cell("target", "MATH.NOPE.9")
        cases["target-traversal"] = with_cell("target", "../../etc/passwd")
    if "date" in columns:
        cases["date-impossible"] = with_cell("date", "31/02/2026")
        cases["date-garbage"] = with_cell("date", "2026-13-45T99:99")
    return cases


def _json_mutations(good: str) -> dict[str, bytes]:
    cases = _text_mutations(good)
    cases.update(
        {
            "json-list": b"[1, 2, 3]",
            "json-string": b'"hello"',
            "json-null": b"null",
            "json-deep": b"[" * 50_000 + b"]" * 50_000,
            "json-deep-object": b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
            "json-huge-int": ('{"x": ' + "9" * 5000 + "}").encode(),
            "json-nan": re.sub(r":\s*\d+", ": NaN", good, count=2).encode(),
            "json-wrong-types": b'{"CFDocument": 3, "CFItems": {"a": 1}, "CFAssociations": "x"}',
            "json-trailing": good.encode() + b"\n{}",
        }
    )
    return cases


def _grades_shape_mutations(document: dict[str, object]) -> dict[str, bytes]:
    """A grades.json edited by hand: each container of a student's results of the wrong type."""
    cases: dict[str, bytes] = {}

    def edited(name: str, change: Callable[[dict[str, Any]], None]) -> None:
        copy = json.loads(json.dumps(document))
        change(copy)
        cases[f"shape-{name}"] = json.dumps(copy).encode()

    def set_student(value: object) -> Callable[[dict[str, Any]], None]:
        return lambda doc: doc["students"].__setitem__(0, value)

    edited("students-string", lambda doc: doc.__setitem__("students", "everyone"))
    edited("student-string", set_student("0041001"))
    edited("student-list", set_student([1, 2]))
    for key in ("targets", "competencies", "courses", "progress"):
        for label, value in (
            ("string", "a\nb"),
            ("text-entry", ["x"]),
            ("empty-entry", [{}]),
        ):

            def change(doc: dict[str, Any], key: str = key, value: object = value) -> None:
                doc["students"][0][key] = value

            edited(f"{key}-{label}", change)
    return cases


@dataclass(frozen=True)
class Case:
    name: str
    target: str  # which input the mutation replaces
    content: bytes | None  # None: made from the file the tool itself wrote (see _materialise)


@dataclass
class School:
    root: Path
    framework: Path
    policy: Path
    gradebook: Path
    case_package: Path
    moodle_csv: Path
    grades: Path
    comments: Path


def _build_school(root: Path) -> School:
    inputs = root / "in"
    shutil.copytree(EXAMPLES / "framework", inputs / "framework")
    shutil.copy(EXAMPLES / "policy.yaml", inputs / "policy.yaml")
    lines = (EXAMPLES / "gradebook" / "algebra1_fall.csv").read_text(encoding="utf-8").splitlines()
    gradebook = inputs / "scores.csv"
    gradebook.write_text("\n".join(lines[: GRADEBOOK_ROWS + 1]) + "\n", encoding="utf-8")
    runner = CliRunner()
    made = root / "made"
    for args in (
        ["export", "case", str(inputs / "framework"), "--out", str(made / "case.json")],
        ["export", "moodle", str(inputs / "framework"), "--out", str(made / "moodle.csv")],
        [
            "grade",
            str(gradebook),
            "--framework",
            str(inputs / "framework"),
            "--policy",
            str(inputs / "policy.yaml"),
            "--format",
            "json",
            "-q",
            "--out",
            str(made / "grades"),
        ],
    ):
        made.mkdir(exist_ok=True)
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    shutil.copy(made / "case.json", inputs / "case.json")
    shutil.copy(made / "moodle.csv", inputs / "moodle.csv")
    shutil.copytree(made / "grades", inputs / "grades")
    shutil.rmtree(made)
    comments = inputs / "comments.csv"
    comments.write_text("student_id,comment\n0041001,Works hard.\n", encoding="utf-8")
    return School(
        root,
        inputs / "framework" / "mathematics.yaml",
        inputs / "policy.yaml",
        gradebook,
        inputs / "case.json",
        inputs / "moodle.csv",
        inputs / "grades" / "grades.json",
        comments,
    )


# Built once at import from the checked-in examples (small strings, no files).
_GOOD = {
    "framework": (EXAMPLES / "framework" / "mathematics.yaml").read_text(encoding="utf-8"),
    "policy": (EXAMPLES / "policy.yaml").read_text(encoding="utf-8"),
    "gradebook": "\n".join(
        (EXAMPLES / "gradebook" / "algebra1_fall.csv")
        .read_text(encoding="utf-8")
        .splitlines()[: GRADEBOOK_ROWS + 1]
    )
    + "\n",
    "comments": "student_id,comment\n0041001,Works hard.\n",
    "canvas_gradebook": "\n".join(
        (EXAMPLES / "gradebook" / "geometry_canvas_outcome_results.csv")
        .read_text(encoding="utf-8")
        .splitlines()[: GRADEBOOK_ROWS + 1]
    )
    + "\n",
}


def _cases() -> list[Case]:
    cases: list[Case] = []
    for target in ("framework", "policy"):
        cases += [Case(n, target, c) for n, c in _yaml_mutations(_GOOD[target]).items()]
    cases += [Case(n, "gradebook", c) for n, c in _csv_mutations(_GOOD["gradebook"]).items()]
    canvas = _csv_mutations(_GOOD["canvas_gradebook"])
    for name, column, value in (
        ("outcome-score-nan", "outcome score", "NaN"),
        ("outcome-score-huge", "outcome score", "9" * 5000),
        ("outcome-unknown", "learning outcome name", "No such outcome"),
        ("student-sis-traversal", "student sis id", "../../x"),
        ("date-impossible", "submission date", "31/02/2026 25:61:00 UTC"),
        ("points-zero", "learning outcome points possible", "0"),
    ):
        canvas[name] = _with_cell(_GOOD["canvas_gradebook"], column, value)
    # Canvas's export goes where the long gradebook went: the same commands read it.
    cases += [Case(f"canvas-{n}", "gradebook", c) for n, c in canvas.items()]
    cases += [Case(n, "comments", c) for n, c in _csv_mutations(_GOOD["comments"]).items()]
    # The CASE package, Moodle CSV and grades.json are made by the tool itself; their mutations
    # are generated lazily from a placeholder and filled in by _materialise.
    for n in _json_mutations("{}"):
        cases.append(Case(n, "case_package", None))
        cases.append(Case(n, "grades", None))
    for n in _csv_mutations("a,b\n1,2\n"):
        if n in _text_mutations(""):
            cases.append(Case(n, "moodle_csv", None))
    for n in (
        "header-only",
        "duplicate-header",
        "missing-column",
        "unbalanced-quote",
        "huge-field",
        "no-header",
        "extra-cells",
    ):
        cases.append(Case(n, "moodle_csv", None))
    cases += [
        Case("grades-wrong-shape", "grades", b'{"version": 1, "students": "everyone"}'),
        Case("grades-list-of-junk", "grades", b'{"version": 1, "targets": [1, "x", null]}'),
        Case("grades-version-huge", "grades", ('{"version": ' + "9" * 5000 + "}").encode()),
        *(Case(n, "grades", None) for n in _grades_shape_mutations({"students": [{}]})),
    ]
    cases.append(Case("hostile-options", "arguments", None))
    return cases


def _materialise(case: Case, school: School) -> Path:
    if case.target == "arguments":
        return school.root
    path: Path = getattr(school, case.target)
    content = case.content
    if content is None and case.name.startswith("shape-"):
        content = _grades_shape_mutations(json.loads(path.read_text(encoding="utf-8")))[case.name]
    if content is None:
        good = path.read_text(encoding="utf-8")
        mutations = _json_mutations(good) if path.suffix == ".json" else _csv_mutations(good)
        content = mutations[case.name]
    path.write_bytes(content)
    return path


def _commands(case: Case, school: School, out: Path) -> list[tuple[str, list[str]]]:
    inputs = school.root / "in"
    framework = str(inputs / "framework")
    policy = ["--policy", str(school.policy)]
    grade_inputs = [str(school.gradebook), "--framework", framework, *policy]

    def report_from_grades(kind: str, *options: str) -> list[str]:
        return ["report", kind, "--grades", str(school.grades.parent), "--framework", framework,
                *options, "-q", "--out", str(out / "r")]

    by_target: dict[str, list[tuple[str, list[str]]]] = {
        "framework": [
            ("validate", ["validate", framework, str(school.policy)]),
            ("export-case", ["export", "case", framework, "--out", str(out / "case.json")]),
            (
                "export-moodle",
                ["export", "moodle", framework, *policy, "--out", str(out / "m.csv")],
            ),
            (
                "export-canvas",
                ["export", "canvas-outcomes", framework, *policy, "--out", str(out / "c.csv")],
            ),
        ],
        "policy": [
            ("validate", ["validate", framework, str(school.policy)]),
            (
                "export-moodle",
                ["export", "moodle", framework, *policy, "--out", str(out / "m.csv")],
            ),
            (
                "export-canvas",
                ["export", "canvas-outcomes", framework, *policy, "--out", str(out / "c.csv")],
            ),
        ],
        "gradebook": [],
        "comments": [
            (
                "report-comments",
                report_from_grades("report-card", "--comments", str(school.comments),
                                   "--student", "0041001", "-j", "1"),
            ),
        ],
        "case_package": [
            ("import-case", ["import", "case", str(school.case_package), "--out", str(out / "i")])
        ],
        "moodle_csv": [
            ("import-moodle", ["import", "moodle", str(school.moodle_csv), "--out", str(out / "i")])
        ],
        "grades": [
            ("report-grades", report_from_grades("class-summary", "-j", "1")),
        ],
    }
    by_target["arguments"] = [
        ("explain-unknown-target", ["explain", "0041001", "MATH.NOPE.9", *grade_inputs]),
        ("explain-traversal", ["explain", "../../x", "../../etc/passwd", *grade_inputs]),
        ("explain-control", ["explain", "00\n41\x1b[2J", "MATH.NQ.1\r\n", *grade_inputs]),
        ("report-date", report_from_grades("report-card", "--date", "31/02/2026")),
        ("report-lang", report_from_grades("report-card", "--lang", "../../x")),
        ("report-student", report_from_grades("report-card", "--student", "../../x")),
        ("grade-param", ["grade", *grade_inputs, "--param", "weight=nan", "--out", str(out / "g")]),
        (
            "grade-param-huge",
            ["grade", *grade_inputs, "--param", "weight=" + "9" * 5000, "--out", str(out / "g")],
        ),
        ("grade-method", ["grade", *grade_inputs, "--method", "../../x", "--out", str(out / "g")]),
        ("schema-unknown", ["schema", "../../x"]),
        ("schema-out", ["schema", "--out", str(out / "s")]),
        (
            "import-levels",
            [
                "import",
                "case",
                str(school.case_package),
                "--levels",
                "0,-1,x",
                "--out",
                str(out / "i"),
            ],
        ),
        (
            "import-id",
            [
                "import",
                "moodle",
                str(school.moodle_csv),
                "--id",
                "../../x\n",
                "--out",
                str(out / "i"),
            ],
        ),
        (
            "export-changed",
            ["export", "case", framework, "--changed", "31/02/2026", "--out", str(out / "c.json")],
        ),
    ]
    commands = list(by_target[case.target])
    if case.target in ("framework", "policy", "gradebook"):
        commands += [
            ("grade", ["grade", *grade_inputs, "--out", str(out / "g")]),
            ("explain", ["explain", "0041001", "MATH.NQ.1", *grade_inputs]),
            (
                "report-scores",
                [
                    "report",
                    "class-summary",
                    *grade_inputs,
                    "-j",
                    "1",
                    "-q",
                    "--out",
                    str(out / "r"),
                ],
            ),
        ]
    return commands


def _snapshot(root: Path, out: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if out not in p.parents and p != out and not p.is_symlink()
    }


def _school_in(root: Path) -> School:
    inputs = root / "in"
    return School(
        root,
        inputs / "framework" / "mathematics.yaml",
        inputs / "policy.yaml",
        inputs / "scores.csv",
        inputs / "case.json",
        inputs / "moodle.csv",
        inputs / "grades" / "grades.json",
        inputs / "comments.csv",
    )


CASES = _cases()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("school")
    _build_school(root)
    return root


@pytest.mark.parametrize("case", CASES, ids=[f"{c.target}-{c.name}" for c in CASES])
def test_every_command_answers_a_hostile_input(case: Case, pristine: Path, tmp_path: Path) -> None:
    shutil.copytree(pristine / "in", tmp_path / "in")
    school = _school_in(tmp_path)
    _materialise(case, school)
    out = tmp_path / "out"
    runner = CliRunner()
    failures: list[str] = []
    for label, args in _commands(case, school, out):
        before = _snapshot(tmp_path, out)
        result = runner.invoke(app, args, env={"COLUMNS": "200", "GITHUB_ACTIONS": ""})
        text = result.output
        problems = []
        if result.exit_code not in (0, 1, 2):
            problems.append(f"exit {result.exit_code}")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            problems.append(f"exception {type(result.exception).__name__}: {result.exception}")
        if "internal error" in text or "Traceback" in text:
            problems.append("internal error")
        unlocated = [
            line
            for line in text.splitlines()
            if DIAGNOSTIC_LINE.search(line) and not LOCATED_LINE.match(line)
        ]
        if unlocated:
            problems.append(f"unlocated: {unlocated[:2]!r}")
        if _snapshot(tmp_path, out) != before:
            problems.append("wrote outside --out")
        if label == "grade" and result.exit_code == 0:
            match = ACCOUNTING.search(text)
            if match is None:
                problems.append("no row accounting")
            else:
                read, used, aside, rejected = map(int, match.groups())
                if read != used + aside + rejected:
                    problems.append(f"accounting {match.group(0)}")
        if problems:
            failures.append(f"{label}: {'; '.join(problems)}\n    {text[-600:]!r}")
        if out.exists():
            shutil.rmtree(out)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "target",
    ["framework", "policy", "gradebook", "comments", "case_package", "moodle_csv", "grades"],
)
def test_the_unmutated_school_passes_every_command(
    target: str, pristine: Path, tmp_path: Path
) -> None:
    """Without this the corpus could pass on a misspelt option (exit 2) everywhere."""
    shutil.copytree(pristine / "in", tmp_path / "in")
    school = _school_in(tmp_path)
    for label, args in _commands(Case("good", target, None), school, tmp_path / "out"):
        result = CliRunner().invoke(app, args, env={"COLUMNS": "200", "GITHUB_ACTIONS": ""})
        # The example framework carries deliberate warnings; validate then exits 0 all the same.
        assert result.exit_code == 0, f"{label}: {result.output[-800:]}"
        if label == "grade":
            assert ACCOUNTING.search(result.output), result.output


def test_corpus_is_several_hundred_runs(pristine: Path) -> None:
    """The corpus is as large as the issue's: several hundred command runs."""
    school = School(pristine, *(Path() for _ in range(7)))  # type: ignore[arg-type]
    runs = sum(len(_commands(case, school, pristine / "out")) for case in CASES)
    assert runs >= 300
