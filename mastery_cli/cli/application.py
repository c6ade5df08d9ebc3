"""The typer application: every command, its options and help texts."""


from typing import Annotated

import typer

from mastery_cli import __version__
from mastery_cli.cli import calibrate as _calibrate
from mastery_cli.cli import grade as _grade
from mastery_cli.cli import interop as _interop
from mastery_cli.cli import report as _report
from mastery_cli.cli import validate as _validate
from mastery_cli.cli.common import emit

app = typer.Typer(
    name="mastery",
    help="Validate competency frameworks, compute mastery grades, render family reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        emit(f"mastery {__version__}")
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

# Each further command module adds its commands with register(app).
_grade.register(app)
_report.register(app)
_interop.register(app)
_calibrate.register(app)
