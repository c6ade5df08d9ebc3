"""mastery: validate competency frameworks, compute mastery grades, render family reports.

The library never imports typer or rich; `mastery_cli.cli` is the only place that does.
"""

__version__ = "0.1.0"
