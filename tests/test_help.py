"""Every command's --help shows at least one example, and the CLI never shows a traceback."""

from __future__ import annotations

from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from mastery_cli.cli import app


def _command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(command: Any, prefix: list[str]) -> None:
        # typer vendors its own click, so recognise groups by shape rather than class.
        if getattr(command, "commands", None):
            for name, sub in sorted(command.commands.items()):
                walk(sub, [*prefix, name])
        else:
            paths.append(prefix)

    walk(root, [])
    return paths


COMMANDS = _command_paths()


def test_the_core_commands_exist() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {"validate", "schema"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
def test_help_has_an_example(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`mastery {' '.join(path)} --help` shows no example"
    assert "mastery " in result.output.split("Example", 1)[1], "the example is not a command line"


def test_root_help_and_version() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["--help"]).exit_code == 0
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("mastery ")


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code == 2


def test_the_application_loads_no_heavy_library() -> None:
    """Commands import the library inside their functions: `mastery --help` (and so every
    command before its body runs) pays for typer, not for numpy, pandas, pyarrow, jinja2,
    jsonschema, rich or the grading engine."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "mastery_cli", "--help"],
                            capture_output=True, text=True, env={"COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    modules = {line.split("|")[-1].strip() for line in result.stderr.splitlines()
               if line.startswith("import time:")}
    heavy = {"numpy", "pandas", "pyarrow", "jinja2", "jsonschema", "jsonschema_rs", "weasyprint",
             "babel", "yaml", "mastery_cli.grading", "mastery_cli.reports"}
    assert not heavy & modules


def _example_lines(output: str) -> list[str]:
    """The lines of the help's examples (after "Example"), rendered."""
    return output.split("Example", 1)[1].split("╭", 1)[0].splitlines()


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
def test_examples_do_not_break_mid_command_at_80_columns(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    lines = _example_lines(result.output)
    for number, line in enumerate(lines):
        stripped = line.strip()
        # A command line either ends there or says it goes on (a trailing backslash); the
        # line after one that ends is blank or another command.
        if stripped.startswith("mastery ") and not stripped.endswith("\\"):
            following = lines[number + 1].strip() if number + 1 < len(lines) else ""
            assert following == "" or following.startswith(("mastery ", "Example")), (
                f"`mastery {' '.join(path)} --help` wraps an example at 80 columns: "
                f"{stripped!r} / {following!r}")


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
def test_flags_show_no_type(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
    assert "<bool>" not in result.output
