"""The lock files in requirements/ pin everything pyproject.toml asks for, and agree.

`make demo` installs requirements/demo.txt and `make test` requirements/dev.txt; a package
added to pyproject.toml without `make lock` would be missing on a fresh machine (the Makefile
installs the package itself with --no-deps), and two lock files naming different versions of
one package would test one version and demonstrate another.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def _pins(name: str) -> set[tuple[str, str]]:
    """(package, version) pairs; a package may have one version per Python version."""
    text = (ROOT / "requirements" / name).read_text(encoding="utf-8")
    return {(canonicalize_name(m.group(1)), m.group(2)) for m in _PIN.finditer(text)}


def _names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
RUNTIME = _names(PROJECT["project"]["dependencies"]) | _names(
    PROJECT["project"]["optional-dependencies"]["pdf"]
)
DEV_TOOLS = _names(PROJECT["dependency-groups"]["dev"])


@pytest.mark.parametrize(
    ("lock", "wanted"), [("demo.txt", RUNTIME), ("dev.txt", RUNTIME | DEV_TOOLS)]
)
def test_every_dependency_is_pinned(lock: str, wanted: set[str]) -> None:
    pinned = {name for name, _ in _pins(lock)}
    assert wanted - pinned == set(), f"run `make lock`: {lock} misses them"


def test_the_demo_lock_holds_the_same_versions_as_the_test_lock() -> None:
    assert _pins("demo.txt") - _pins("dev.txt") == set()


def test_every_pin_carries_hashes() -> None:
    for lock in ("demo.txt", "dev.txt"):
        text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
        blocks = [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if _PIN.match(b)]
        assert len(blocks) == len(_pins(lock))
        for block in blocks:
            assert "--hash=sha256:" in block, block.splitlines()[0]
