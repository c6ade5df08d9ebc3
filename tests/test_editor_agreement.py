"""Editors agree with `mastery validate`: the real YAML language server reads our schemas.

The server (npm ``yaml-language-server``, the engine of VS Code's YAML extension; ``make test``
installs the version pinned in tests/lsp/) is started once and spoken to over stdio as an
editor does. It must find no problem in the example school or the README's snippets, report
every broken file of tests/editor_cases/ on the line `mastery validate` does (the line marked
``# <- error``), and show each property's own title on hover. Skips where Node is missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from yaml_language_server import Problem, YamlLanguageServer, find_server

from mastery_cli.diagnostics import Severity
from mastery_cli.validation import validate_paths

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
EXAMPLES = sorted((ROOT / "examples").rglob("*.yaml"))
BROKEN = sorted((ROOT / "tests" / "editor_cases").glob("*.yaml"))
VALID = sorted((ROOT / "tests" / "editor_cases" / "valid").glob("*.yaml"))
CASES = ROOT / "tests" / "cases"
MARK = "# <- error"
KINDS = ("framework", "rubric", "policy")

PINNED = ROOT / "tests" / "lsp"


@pytest.fixture(scope="module")
def server() -> Iterator[YamlLanguageServer]:
    found = find_server()
    if found is None:
        pytest.skip("yaml-language-server is not installed (make test installs it; needs npm)")
    with YamlLanguageServer(found, ROOT) as running:
        yield running


def test_the_server_is_pinned_to_one_version() -> None:
    wanted = json.loads((PINNED / "package.json").read_text(encoding="utf-8"))
    version = wanted["devDependencies"]["yaml-language-server"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "an exact version, not a range"
    locked = json.loads((PINNED / "package-lock.json").read_text(encoding="utf-8"))
    assert locked["packages"]["node_modules/yaml-language-server"]["version"] == version


def _kind(text: str) -> str | None:
    match = re.search(r"^kind:\s*(\w+)", text, re.M)
    return match.group(1) if match and match.group(1) in KINDS else None


def _mastery_lines(path: Path) -> set[int]:
    """Lines of the errors `mastery validate` reports in the file's shape (its schema)."""
    result = validate_paths([path])
    return {d.line for d in result.diagnostics if d.severity is Severity.ERROR
            and d.code.startswith("schema-") and d.line is not None}


def _lines(problems: list[Problem]) -> set[int]:
    return {problem.line for problem in problems}


# --- valid files: no problems ------------------------------------------------------------------

@pytest.mark.parametrize("path", EXAMPLES + VALID, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_valid_files_have_no_problems_in_the_editor(
    server: YamlLanguageServer, path: Path
) -> None:
    assert "yaml-language-server: $schema=" in path.read_text(encoding="utf-8").splitlines()[0]
    assert server.open(path) == []
    assert _mastery_lines(path) == set()


def _readme_snippets() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(.*?)^```", readme, re.M | re.S)
    return [block for block in blocks if _kind(block)]


def test_the_readme_has_mastery_snippets() -> None:
    assert len(_readme_snippets()) >= 2


@pytest.mark.parametrize("index", range(len(_readme_snippets())))
def test_readme_snippets_have_no_problems(
    server: YamlLanguageServer, index: int, tmp_path: Path
) -> None:
    snippet = _readme_snippets()[index]
    kind = _kind(snippet)
    # Opened as if it were a file of examples/ (never written there), so that the README's
    # "$schema=../schemas/…" finds the schema as it does for a reader who copies it.
    shown = ROOT / "examples" / f"readme-snippet-{index}.yaml"
    server.associate({SCHEMAS / f"{kind}.schema.json": [shown]})
    assert server.open(shown, snippet) == []
    path = tmp_path / shown.name
    path.write_text(snippet, encoding="utf-8")
    assert _mastery_lines(path) == set()  # the snippets may name ids defined elsewhere


# --- broken files: the same line as mastery validate -------------------------------------------

def test_there_are_broken_files_of_every_kind() -> None:
    assert len(BROKEN) >= 25
    assert {path.name.split("-")[0] for path in BROKEN} == set(KINDS)


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_a_broken_file_is_reported_on_the_line_mastery_reports(
    server: YamlLanguageServer, path: Path
) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    marked = {number for number, line in enumerate(lines, 1) if line.endswith(MARK)}
    assert marked, f"{path.name} marks no line with '{MARK}'"
    problems = server.open(path)
    assert _lines(problems) == marked, problems
    assert _mastery_lines(path) == marked


def _case_files() -> list[Path]:
    """The golden validate cases whose files YAML can read (parser messages differ)."""
    files = []
    for path in sorted(CASES.rglob("*.yaml")):
        if path.parent.name.startswith(("yaml-", "file-")) or path.parent.name == "not-yaml":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if _kind(text):
            files.append(path)
    return files


def test_golden_validate_cases_agree_with_the_editor(server: YamlLanguageServer) -> None:
    """Every schema error of the golden cases is on a line the editor marks, and vice versa.

    One known difference: where a key is misspelled, `mastery validate` reports the unknown
    key with a did-you-mean and folds the "missing required key" into it; the editor reports
    both, the missing one at the mapping.
    """
    files = _case_files()
    assert len(files) >= 60
    by_kind: dict[Path, list[Path]] = {}
    for path in files:
        by_kind.setdefault(SCHEMAS / f"{_kind(path.read_text(encoding='utf-8'))}.schema.json",
                           []).append(path)
    server.associate(by_kind)
    disagreements = []
    for path in files:
        problems = server.open(path)
        ours = _mastery_lines(path)
        extra = {p for p in problems if p.line not in ours
                 and not p.message.startswith("Missing property")}
        if not ours <= _lines(problems) or extra:
            disagreements.append((path.relative_to(CASES).as_posix(), sorted(ours), problems))
    assert disagreements == []


# --- hover and completion ----------------------------------------------------------------------

def _hover_title(server: YamlLanguageServer, path: Path, key: str, occurrence: int = 0) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [(number, line.index(key)) for number, line in enumerate(lines, 1)
             if line.lstrip().startswith(f"{key}:")]
    number, column = found[occurrence]
    server.open(path)
    text = server.hover(path, number, column + 2)
    title = re.match(r"#### (.+)", text)
    assert title, f"no title in the hover of {key}: {text!r}"
    return title.group(1)


@pytest.mark.parametrize(("file", "key", "title"), [
    ("framework/mathematics.yaml", "statement", "Statement"),
    ("framework/mathematics.yaml", "i_can", '"I can" statement'),
    ("framework/mathematics.yaml", "subject", "Subject"),
    ("framework/riverside.yaml", "label", "Label"),
    ("framework/riverside.yaml", "school", "School"),
    ("framework/riverside.yaml", "short", "Short label"),
    ("framework/riverside.yaml", "grade_levels", "Grade levels"),
    ("framework/riverside.yaml", "en", "Text in this language"),
    ("rubrics/lab-report.yaml", "note", "Note"),
    ("policy.yaml", "method", "Calculation method"),
    ("policy.yaml", "missing", "Missing work"),
])
def test_hover_shows_the_property_s_own_title(
    server: YamlLanguageServer, file: str, key: str, title: str
) -> None:
    assert _hover_title(server, ROOT / "examples" / file, key) == title


@pytest.mark.parametrize(("kind", "key", "inserted"), [
    ("framework", "kind", "kind: framework"),
    ("framework", "schema_version", "schema_version: 1"),
    ("rubric", "kind", "kind: rubric"),
    ("policy", "schema_version", "schema_version: 1"),
])
def test_completion_of_kind_and_version_inserts_the_value(
    server: YamlLanguageServer, tmp_path: Path, kind: str, key: str, inserted: str
) -> None:
    path = tmp_path / f"new-{kind}.yaml"
    path.write_text("\n", encoding="utf-8")
    server.associate({SCHEMAS / f"{kind}.schema.json": [path]})
    server.open(path)
    items = {item["label"]: item for item in server.complete(path, 1, 1)}
    edit = items[key].get("textEdit", {}).get("newText") or items[key].get("insertText")
    assert edit == inserted
