"""The shipped examples are what new users copy: every one of them must validate cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.validation import validate_paths

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
YAML_FILES = sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".yaml", ".yml"))


def test_there_are_examples() -> None:
    assert (EXAMPLES / "framework").is_dir()
    assert len(YAML_FILES) >= 2


def test_examples_folder_validates_strictly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    result = CliRunner().invoke(app, ["validate", "--strict", "examples/"])
    # The example bank of benchmarked work has gaps, as a real one does (`mastery report
    # exemplars` lists what to collect next): under --strict those are the only warnings.
    lines = [line for line in result.stdout.strip().splitlines() if not line.startswith(" ")]
    gaps = [line for line in lines[:-1] if "[levels-without-exemplar]" in line]
    assert lines[:-1] == gaps and len(gaps) == 6, result.stdout
    assert lines[-1] == f"{len(YAML_FILES)} files checked: 0 errors, {len(gaps)} warnings"
    assert result.exit_code == 1  # warnings fail --strict


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.relative_to(EXAMPLES).as_posix())
def test_each_example_is_a_checked_mastery_file(path: Path) -> None:
    """Every YAML file in examples/ is a mastery file (none is skipped) and has no errors when
    validated with the files it refers to."""
    result = validate_paths([EXAMPLES])
    assert path.resolve() not in {Path(p).resolve() for p, _ in result.skipped}
    problems = [d for d in result.diagnostics if Path(d.path).resolve() == path.resolve()]
    assert problems == []


def test_framework_files_validate_on_their_own_folder() -> None:
    result = validate_paths([EXAMPLES / "framework"])
    assert result.errors == []
    assert set(result.frameworks) == {"riverside-hs"}
    framework = result.frameworks["riverside-hs"]
    assert framework.targets and framework.scales and framework.courses
