"""The wheel works on its own: built, installed (not editable) into a fresh venv, run elsewhere.

This is the issue's "done when": `pip install .` into an empty environment, then
`mastery validate examples/` from another directory exits 0. It catches schemas or templates
left out of the wheel and code that only works from a source checkout. Dependencies come from
the machine's pip configuration (a local wheelhouse where there is one, else PyPI).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the `mastery` executable of a fresh venv it was installed into)."""
    base = tmp_path_factory.mktemp("packaging")
    built = _run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "--quiet",
                 "-w", base / "dist", cwd=base)
    assert built.returncode == 0, built.stderr
    wheel = next((base / "dist").glob("mastery_cli-*.whl"))
    created = _run(sys.executable, "-m", "venv", base / "venv", cwd=base)
    assert created.returncode == 0, created.stderr
    pip = _run(base / "venv" / "bin" / "python", "-m", "pip", "install", "--quiet", wheel,
               cwd=base)
    if pip.returncode != 0 and "No matching distribution" in pip.stderr:
        pytest.skip("the dependencies cannot be installed on this machine (offline?)")
    assert pip.returncode == 0, pip.stderr
    return wheel, base / "venv" / "bin" / "mastery"


def test_wheel_contains_schemas_and_templates(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for kind in ("framework", "rubric"):
        assert f"mastery_cli/_data/schemas/{kind}.schema.json" in names
    templates = [p for p in (ROOT / "templates").rglob("*") if p.is_file()]
    for template in templates:
        relative = template.relative_to(ROOT / "templates").as_posix()
        assert f"mastery_cli/_data/templates/{relative}" in names


def test_installed_command_validates_from_another_folder(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, mastery = installed
    good = _run(mastery, "validate", ROOT / "tests" / "cases" / "good", cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    broken = _run(mastery, "validate", ROOT / "tests" / "cases" / "schema-enum", cwd=tmp_path)
    assert broken.returncode == 1
    assert "framework.yaml:20:11: error [schema-enum]" in broken.stdout
    schema = _run(mastery, "schema", "framework", cwd=tmp_path)
    assert schema.returncode == 0 and '"$schema"' in schema.stdout


def test_installed_command_validates_the_examples(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, mastery = installed
    result = _run(mastery, "validate", ROOT / "examples", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout


def test_installed_package_is_not_the_checkout(installed: tuple[Path, Path]) -> None:
    _, mastery = installed
    python = mastery.parent / "python"
    where = _run(python, "-c", "import mastery_cli, sys; print(mastery_cli.__file__)",
                 cwd=mastery.parent)
    assert where.returncode == 0, where.stderr
    assert str(ROOT) not in where.stdout
