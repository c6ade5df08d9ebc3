"""`mastery import` (case, moodle) and `mastery export` (case, moodle, canvas-outcomes)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mastery_cli.cli.common import FORMAT_HELP, emit, guarded, print_diagnostics, resolve_format

if TYPE_CHECKING:
    from mastery_cli.diagnostics import Diagnostic
    from mastery_cli.interop.case_import import ImportResult

import_app = typer.Typer(
    name="import", help="Import frameworks from CASE packages and Moodle.", no_args_is_help=True,
)
export_app = typer.Typer(
    name="export", help="Export a framework to CASE, Moodle or Canvas.", no_args_is_help=True,
)

OutDir = Annotated[Path, typer.Option("--out", "-o", help="Folder to write the framework YAML "
                                      "into (created when missing).", show_default=False)]
Levels = Annotated[str | None, typer.Option(
    "--levels", help="Item types (or depths, 1 = top) from the top down, e.g. "
    "Domain,Cluster,Standard; the last is the target level and anything below a target folds "
    "into it. Default: items without children are targets.", show_default=False)]
Split = Annotated[bool, typer.Option("--split", help="One file per top-level group plus a "
                                     "main file, instead of a single file.")]
FrameworkId = Annotated[str | None, typer.Option("--id", help="The framework id (default: from "
                                                 "the source's title).", show_default=False)]
Format = Annotated[str | None, typer.Option("--format", "-f", help=FORMAT_HELP,
                                            show_default=False)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print warnings as counts per code "
                                     "instead of one line each.")]
Frameworks = Annotated[list[Path], typer.Argument(help="Framework files or folders.",
                                                  show_default=False)]


def _report(diagnostics: list[Diagnostic], checked: int, subject: str, fmt: str,
            quiet: bool, extra: dict[str, object] | None = None) -> None:
    from mastery_cli.diagnostics import Summary

    summary = Summary.of(diagnostics, checked, subject)
    summary.extra.update(extra or {})
    if quiet and fmt != "json":
        for code, count in sorted(Counter(d.code for d in diagnostics).items()):
            emit(f"{count} × [{code}]", err=True)
        emit(summary.line(), err=True)
        return
    print_diagnostics(diagnostics, summary, fmt, err=fmt != "json")


def _written(result: ImportResult, out: Path, source: Path, fmt: str, quiet: bool) -> None:
    """Write the files, check them as 'mastery validate' would, then report."""
    from mastery_cli.diagnostics import MasteryError, error
    from mastery_cli.documents import display_path
    from mastery_cli.interop.files import write_and_check

    checked = write_and_check(result.files, out, source=source.name, inputs=[source])
    shown = display_path(out)
    if checked.errors:
        raise MasteryError([*result.diagnostics, *checked.errors, error(
            "import-output-invalid",
            f"the files written to {shown} do not pass 'mastery validate' (see above)", shown,
            hint="this is a bug in the importer: please report it with the source file")])
    _report(result.diagnostics, 1, "files", fmt, quiet, {
        "written": [display_path(p) for p in checked.paths], "counts": result.counts,
        "suggestions": len(checked.warnings)})
    if fmt != "json":
        emit(f"{result.summary}.", err=True)
        count = len(checked.warnings)
        emit(f"wrote {len(checked.paths)} file(s) to {shown}; they pass 'mastery validate' "
             f"({count} suggestion{'s' if count != 1 else ''}: run 'mastery validate {shown}').",
             err=True)
        emit("    hint: for editor completion offline, 'mastery schema --out schemas/' writes "
             "the schemas the files' first line names", err=True)


@import_app.command("case")
@guarded
def import_case(
    package: Annotated[Path, typer.Argument(help="A CASE package (CFPackage JSON).",
                                            show_default=False)],
    out: OutDir,
    levels: Levels = None,
    split: Split = False,
    framework_id: FrameworkId = None,
    output_format: Format = None,
    quiet: Quiet = False,
) -> None:
    """Import a 1EdTech CASE package as framework YAML.

    Every item keeps its CASE identifier, URI and properties under 'case:', so exporting again
    loses nothing. Each CFRubric also becomes rubrics/<id>.yaml; when the rubrics agree on
    their level scores, those make the scale. Targets without a rubric get placeholder
    indicators. Deviations from CASE 1.1 are warnings; exit 1 when the file is not a CASE
    package, or if the written files do not pass 'mastery validate'.

    Examples:

        mastery import case ccss-math.json --out frameworks/ccss \\
            --levels Domain,Cluster,Standard

        mastery import case state-science.json --out frameworks/science \\
            --split --quiet
    """
    from mastery_cli.documents import display_path
    from mastery_cli.interop.case_import import ImportOptions, read_case_package

    fmt = resolve_format(output_format)
    result = read_case_package(package, ImportOptions(levels=levels, split=split,
                                                      framework_id=framework_id),
                               display=display_path(package))
    _written(result, out, package, fmt, quiet)


@import_app.command("moodle")
@guarded
def import_moodle(
    csv_file: Annotated[Path, typer.Argument(help="A Moodle competency framework CSV.",
                                             show_default=False)],
    out: OutDir,
    levels: Levels = None,
    split: Split = False,
    framework_id: FrameworkId = None,
    output_format: Format = None,
    quiet: Quiet = False,
) -> None:
    """Import a Moodle competency framework CSV (14-column, or the older 12-column format).

    The scale comes from the framework row (the lowest proficient value is the mastery level);
    rules, cross references and HTML descriptions are kept under 'case.moodle'. Rules that
    mean a roll-up ("all children" = all_mastered, equal points = n_of_m) go into policy.yaml:
    as its competency roll-up when every competency has the same one, else as each
    competency's roll-up override.

    Example:

        mastery import moodle oecd-core.csv --out frameworks/oecd
    """
    from mastery_cli.documents import display_path
    from mastery_cli.interop.moodle import read_moodle_csv

    fmt = resolve_format(output_format)
    result = read_moodle_csv(csv_file, levels=levels, split=split, framework_id=framework_id,
                             display=display_path(csv_file))
    _written(result, out, csv_file, fmt, quiet)


def _load(paths: list[Path]) -> tuple[object, list[Diagnostic]]:
    from mastery_cli.validation import load_framework

    return load_framework(paths)


def _finish(text: str, out: Path, warnings: list[Diagnostic], fmt: str,
            inputs: list[Path]) -> None:
    from mastery_cli.documents import display_path
    from mastery_cli.output import write_output_file

    write_output_file(out, text, inputs)
    if warnings:
        _report(warnings, 1, "files", fmt, quiet=False)
    emit(f"wrote {display_path(out)}", err=True)


def _inputs(frameworks: list[Path], policy: Path | None) -> list[Path]:
    """The files an export reads, which its --out must not overwrite (a folder stands for the
    files in it)."""
    from mastery_cli.documents import discover

    given = [*frameworks, *([policy] if policy is not None else [])]
    return [*given, *(path for path, _ in discover([p for p in given if p.is_dir()]))]


ExportOut = Annotated[Path, typer.Option("--out", "-o", help="The file to write.",
                                         show_default=False)]


@export_app.command("case")
@guarded
def export_case(
    frameworks: Frameworks,
    out: ExportOut,
    base_uri: Annotated[str | None, typer.Option(
        "--base-uri", help="URI prefix for objects that have none (default: the document's, "
        "else urn:uuid:).", show_default=False)] = None,
    changed: Annotated[str | None, typer.Option(
        "--changed", help="lastChangeDateTime for objects that have none (default: "
        "SOURCE_DATE_EPOCH, else 1970-01-01T00:00:00+00:00).", show_default=False)] = None,
    output_format: Format = None,
) -> None:
    """Export a framework as a CASE 1.1 package (CFPackage JSON).

    Identifiers are stable: kept from an import, otherwise a UUID version 5 from the
    framework's namespace, so exporting twice gives the same bytes. Scales, indicators and
    "I can" statements go into 'extensions'.

    Example:

        mastery export case frameworks/riverside/ --out riverside.case.json
    """
    from mastery_cli.interop.case_export import (
        ExportOptions,
        case_package_text,
        export_case_package,
    )

    fmt = resolve_format(output_format)
    framework, _warnings = _load(frameworks)
    package, problems = export_case_package(framework,  # type: ignore[arg-type]
                                            ExportOptions(base_uri=base_uri, changed=changed))
    _finish(case_package_text(package), out, problems, fmt, _inputs(frameworks, None))


@export_app.command("moodle")
@guarded
def export_moodle(
    frameworks: Frameworks,
    out: ExportOut,
    policy: Annotated[Path | None, typer.Option(
        "--policy", help="A grading policy; its competency roll-ups (all_mastered, n_of_m; "
        "per-competency overrides first) become the competencies' Moodle rules.",
        show_default=False)] = None,
    output_format: Format = None,
) -> None:
    """Export a framework as a Moodle competency framework CSV (14 columns).

    Rules imported from Moodle go back as they came. With --policy, each competency's roll-up
    (its 'overrides.<id>.rollup', else the policy's 'competency_rollup') becomes its rule:
    all_mastered "all children proficient", n_of_m a points rule (one point per target, n to
    pass); other roll-ups have no Moodle rule.

    Examples:

        mastery export moodle frameworks/riverside/ --out riverside.moodle.csv

        mastery export moodle frameworks/riverside/ --policy policy.yaml \\
            --out riverside.csv
    """
    from mastery_cli.documents import display_path
    from mastery_cli.interop.moodle import export_moodle_csv
    from mastery_cli.interop.moodle_rules import rollups_from_policy

    fmt = resolve_format(output_format)
    framework, _warnings = _load(frameworks)
    rollup, notes = (rollups_from_policy(policy, display_path(policy)) if policy is not None
                     else (None, []))
    text, problems = export_moodle_csv(framework, rollup)  # type: ignore[arg-type]
    _finish(text, out, [*notes, *problems], fmt, _inputs(frameworks, policy))


@export_app.command("canvas-outcomes")
@guarded
def export_canvas(
    frameworks: Frameworks,
    out: ExportOut,
    policy: Annotated[Path | None, typer.Option(
        "--policy", help="A grading policy; its method becomes Canvas's calculation method.",
        show_default=False)] = None,
    output_format: Format = None,
) -> None:
    """Export a framework as a Canvas outcomes import CSV.

    Competencies become outcome groups, targets outcomes with the target id as vendor_guid,
    ratings come from the scale and mastery points from its mastery level.

    Example:

        mastery export canvas-outcomes frameworks/riverside/ --policy policy.yaml \\
            --out outcomes.csv
    """
    from mastery_cli.interop.canvas_outcomes import (
        Calculation,
        calculation_from_policy,
        export_canvas_outcomes,
    )

    fmt = resolve_format(output_format)
    framework, _warnings = _load(frameworks)
    calculation, problems = (calculation_from_policy(policy) if policy is not None
                             else (Calculation(), []))
    _finish(export_canvas_outcomes(framework, calculation),  # type: ignore[arg-type]
            out, problems, fmt, _inputs(frameworks, policy))


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
