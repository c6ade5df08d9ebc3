"""The `mastery` command line: parsing options and printing, nothing else.

Command modules import the library inside their functions, so `mastery validate` never pays
for pandas or jinja2.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from mastery_cli import __version__
from mastery_cli.cli import validate as _validate

app = typer.Typer(
    name="mastery",
    help="Validate competency frameworks, compute mastery grades, render family reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mastery {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Validate competency frameworks, compute mastery grades, render family reports.

    Example: mastery validate examples/
    """


app.command("validate")(_validate.validate)
app.command("schema")(_validate.schema)

# Each further command module exposes register(app). Listed explicitly (no plugin discovery)
# so that start-up stays predictable.
for _name in ("grade", "report", "interop"):
    try:
        _module = importlib.import_module(f"mastery_cli.cli.{_name}")
    except ModuleNotFoundError as _exc:  # a command still being built
        if _exc.name != f"mastery_cli.cli.{_name}":
            raise
        continue
    _module.register(app)


def main() -> None:
    app()
