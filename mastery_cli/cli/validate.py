"""`mastery validate` and `mastery schema`."""


import json
from pathlib import Path
from typing import Annotated

import typer

from mastery_cli.cli.common import FORMAT_HELP, emit, guarded, resolve_format

NO_FILES_MESSAGE = (
    "mastery: no mastery files found (YAML files with 'kind: framework', 'rubric', 'policy', "
    "'assessment-plan' or 'learner')"
)


@guarded
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to check (folders are searched recursively).",
                       show_default=False),
    ] = None,
    output_format: Annotated[
        str | None, typer.Option("--format", "-f", help=FORMAT_HELP, show_default=False)
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail (exit 1) on warnings too.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also list YAML files that were skipped.")
    ] = False,
) -> None:
    """Check frameworks, rubrics and grading policies: schema, references, cycles, levels.

    Prints one line per problem as path:line:col: severity [code] message, then a summary.
    Exit 0 when fine, 1 when the files have errors (or warnings with --strict), 2 on misuse.

    Examples:

        mastery validate            # every mastery file under this folder

        mastery validate examples/ --strict --format json
    """
    from mastery_cli.diagnostics import Summary, exit_code, printable, render, sorted_diagnostics
    from mastery_cli.validation import validate_paths

    fmt = resolve_format(output_format)
    result = validate_paths(paths or [Path(".")], strict=strict)
    summary = Summary.of(result.diagnostics, result.files_checked)
    if verbose:
        summary.extra["skipped"] = [{"path": p, "reason": r} for p, r in result.skipped]
        if fmt != "json":
            for path, reason in result.skipped:
                emit(printable(f"skipped {path}: {reason}"), err=True)
    emit(render(sorted_diagnostics(result.diagnostics), summary, fmt))
    if result.files_checked == 0 and not result.diagnostics:
        emit(NO_FILES_MESSAGE, err=True)
    raise typer.Exit(exit_code(result.diagnostics, strict))


@guarded
def schema(
    kind: Annotated[
        str | None,
        typer.Argument(help="framework, rubric, policy, assessment-plan or learner.",
                       show_default=False),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write every schema into this folder instead.",
                     show_default=False),
    ] = None,
) -> None:
    """Print the JSON Schema of a kind of file, or write all of them with --out.

    Point your editor at a schema for completion and hover help, with a first line like
    '# yaml-language-server: $schema=schemas/framework.schema.json'.

    Examples:

        mastery schema framework > framework.schema.json

        mastery schema --out schemas/
    """
    from mastery_cli.output import OutputFolder, write_text_atomic
    from mastery_cli.schemas import KINDS, load_schema

    if out is not None:
        names = [f"{name}.schema.json" for name in KINDS]
        with OutputFolder(out, names=names) as folder:
            for kind_name, name in zip(KINDS, names, strict=True):
                text = json.dumps(load_schema(kind_name), indent=2, ensure_ascii=False) + "\n"
                write_text_atomic(folder.path(name), text)
            folder.commit()
        for name in names:
            emit(f"wrote {out / name}")
        return
    if kind not in KINDS:
        raise typer.BadParameter(f"choose one of: {', '.join(KINDS)}", param_hint="KIND")
    emit(json.dumps(load_schema(kind), indent=2, ensure_ascii=False))
