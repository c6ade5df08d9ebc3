"""`mastery import` (case, moodle) and `mastery export` (case, moodle, canvas-outcomes)."""


from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mastery_cli.cli.common import FORMAT_HELP, emit, guarded, print_diagnostics, resolve_format

if TYPE_CHECKING:
    from mastery_cli.diagnostics import Diagnostic
    from mastery_cli.interop.case_import import ImportResult

import_app = typer.Typer(
    name="import", help="Import frameworks from CASE packages and Moodle, and backpacks "
    "(Open Badges 3.0) as evidence.", no_args_is_help=True,
)
export_app = typer.Typer(
    name="export", help="Export a framework to CASE, Moodle or Canvas, and students' "
    "backpacks as Open Badges 3.0 / CLR 2.0.", no_args_is_help=True,
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


def _report(diagnostics: "list[Diagnostic]", checked: int, subject: str, fmt: str,
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


def _written(result: "ImportResult", out: Path, source: Path, fmt: str, quiet: bool) -> None:
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


def _load(paths: list[Path]) -> "tuple[object, list[Diagnostic]]":
    from mastery_cli.validation import load_framework

    return load_framework(paths)


def _finish(text: str, out: Path, warnings: "list[Diagnostic]", fmt: str,
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


@export_app.command("ob3")
@guarded
def export_ob3(
    grades: Annotated[Path, typer.Option("--grades", help="Folder with grades.json from "
                                         "'mastery grade --format json'.", show_default=False)],
    framework_path: Annotated[Path, typer.Option("--framework", help="Framework file or "
                                                 "folder.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the backpacks "
                                      "into.", show_default=False)],
    policy: Annotated[Path | None, typer.Option(
        "--policy", help="The grading policy the grades were made with (checked against the "
        "framework).", show_default=False)] = None,
    learners: Annotated[list[Path] | None, typer.Option(
        "--learners", help="Learner records (files or folders): their portfolio pieces become "
        "the credentials' evidence.", show_default=False)] = None,
    key: Annotated[Path | None, typer.Option(
        "--key", help="Ed25519 private key (PEM): also write each credential as a signed "
        "VC-JWT (.jwt). Without it the credentials are unsigned and say so.",
        show_default=False)] = None,
    issued: Annotated[str | None, typer.Option(
        "--issued", help="validFrom of every credential, YYYY-MM-DD (default: the day of the "
        "latest evidence that counted).", show_default=False)] = None,
    lang: Annotated[str | None, typer.Option(
        "--lang", help="Language of names and descriptions (default: the framework's first).",
        show_default=False)] = None,
    students: Annotated[list[str] | None, typer.Option(
        "--student", help="Only this student (repeatable).", show_default=False)] = None,
) -> None:
    """Export each student's data backpack: Open Badges 3.0 and CLR 2.0 credentials.

    One AchievementCredential per mastered target and competency, in OUT/<student>/<id>.json,
    aligned to the CASE item 'mastery export case' writes; one ClrCredential bundling them in
    OUT/<student>.clr.json. With --key, each is also written signed as a VC-JWT (.jwt).
    Exporting twice gives the same bytes.

    Examples:

        mastery export ob3 --grades out/grades --framework examples/framework \\
            --out out/ob3

        mastery export ob3 --grades out/grades --framework examples/framework \\
            --learners examples/learners --key school-key.pem --out out/ob3
    """
    from mastery_cli.cli.report import _grades_path, _read_grades
    from mastery_cli.documents import display_path
    from mastery_cli.interop.ob3 import BackpackOptions, backpack, credential_text
    from mastery_cli.output import OutputFolder, safe_filename, write_text_atomic
    from mastery_cli.reports.context import framework_mismatch

    if issued is not None:
        from datetime import date

        try:
            date.fromisoformat(issued)
        except ValueError:
            raise typer.BadParameter(f"{issued!r} is not a date like 2027-01-29",
                                     param_hint="--issued") from None
    framework, _warnings = _load([framework_path])
    document = _read_grades(grades)
    mismatch = framework_mismatch(document, framework, str(_grades_path(grades)))  # type: ignore[arg-type]
    if mismatch is not None:
        from mastery_cli.diagnostics import MasteryError, Severity

        if mismatch.severity is Severity.ERROR:
            raise MasteryError(mismatch)
    if policy is not None:
        from mastery_cli.grading.policy_check import load_policy

        load_policy(policy, framework)  # type: ignore[arg-type]
    records = {}
    if learners:
        from mastery_cli.learner.load import load_learners

        loaded, _notes = load_learners(learners, framework)  # type: ignore[arg-type]
        records = {r.student_id: r for r in loaded}
    private_key = None
    if key is not None:
        from mastery_cli.interop.ob3_sign import load_private_key, sign_credential

        private_key = load_private_key(key, display_path(key))
    packs = backpack(document, framework, records,  # type: ignore[arg-type]
                     BackpackOptions(language=lang, issued=issued, signed=key is not None),
                     students=students or ())
    inputs = [framework_path, _grades_path(grades), *(learners or ()),
              *([key] if key else []), *([policy] if policy else [])]
    count = 0
    with OutputFolder(out, inputs=inputs) as folder:
        for pack in packs:
            person = safe_filename(pack.student_id)
            files = [(f"{person}/{name}", credential) for name, credential in pack.credentials]
            files.append((f"{person}.clr", pack.clr))
            for name, credential in files:
                write_text_atomic(folder.path(f"{name}.json"), credential_text(credential))
                if private_key is not None:
                    write_text_atomic(folder.path(f"{name}.jwt"),
                                      sign_credential(credential, private_key) + "\n")
            count += len(pack.credentials)
        folder.commit()
    signed = "signed as VC-JWT" if key is not None else "unsigned (no --key)"
    emit(f"wrote {count} credential(s) and {len(packs)} CLR record(s) to {display_path(out)}, "
         f"{signed}", err=True)


@export_app.command("ob3-key")
@guarded
def export_ob3_key(
    out: Annotated[Path, typer.Option("--out", "-o", help="The private key file to write "
                                      "(PEM; keep it secret).", show_default=False)],
) -> None:
    """Make a new Ed25519 signing key for 'mastery export ob3 --key'.

    The private key is written readable by you only; its public half (a JWK) is printed and is
    also in the header of every VC-JWT signed with it. Never commit the key to a repository.

    Example:

        mastery export ob3-key --out ~/keys/riverside-ob3.pem
    """
    import json
    import os

    from mastery_cli.diagnostics import MasteryError, error
    from mastery_cli.interop.ob3_sign import new_private_key_pem, public_jwk
    from mastery_cli.output import check_output_file

    if out.exists():
        raise MasteryError(error("key-exists", f"{out} already exists; a key is never "
                                 "overwritten", str(out), hint="choose another file name"),
                           usage=True)
    check_output_file(out)
    pem = new_private_key_pem()
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    from cryptography.hazmat.primitives import serialization

    emit(json.dumps(public_jwk(serialization.load_pem_private_key(pem, None))))
    emit(f"wrote {out} (private: keep it out of repositories and backups others can read)",
         err=True)


@import_app.command("ob3")
@guarded
def import_ob3(
    files: Annotated[list[Path], typer.Argument(help="Backpack files: credentials or CLRs "
                                                "(.json) and VC-JWTs (.jwt).",
                                                show_default=False)],
    framework_path: Annotated[Path, typer.Option("--framework", help="Our framework: "
                                                 "alignments are mapped to its targets.",
                                                 show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write "
                                      "backpack_evidence.csv into.", show_default=False)],
    approved_by: Annotated[str, typer.Option(
        "--approved-by", help="Who approved this outside evidence (fills approved_by and "
        "approved_on); without it the rows wait for approval.")] = "",
    approved_on: Annotated[str | None, typer.Option(
        "--approved-on", help="With --approved-by: the day, YYYY-MM-DD (default: today).",
        show_default=False)] = None,
    output_format: Format = None,
) -> None:
    """Import a transfer student's backpack (Open Badges 3.0 / CLR 2.0) as evidence rows.

    Each credential for one of our targets (matched by CASE identifier or URI, else by id)
    becomes a row of OUT/backpack_evidence.csv with the achieved level as the score and
    source 'prior school', ready for 'mastery grade' like a transfer CSV. VC-JWT signatures
    are checked: a tampered credential is an error (exit 1).

    Example:

        mastery import ob3 backpack/0041066.clr.json \\
            --framework examples/framework --out imported/ \\
            --approved-by "Ms. Ortiz"
    """
    from datetime import date

    from mastery_cli.diagnostics import MasteryError, Severity
    from mastery_cli.documents import display_path
    from mastery_cli.interop.ob3_import import read_backpacks
    from mastery_cli.output import OutputFolder, write_text_atomic

    fmt = resolve_format(output_format)
    day = ""
    if approved_by:
        try:
            day = (date.fromisoformat(approved_on) if approved_on else date.today()).isoformat()
        except ValueError:
            raise typer.BadParameter(f"{approved_on!r} is not a date like 2027-01-29",
                                     param_hint="--approved-on") from None
    framework, _warnings = _load([framework_path])
    result = read_backpacks(files, framework, approved_by=approved_by,  # type: ignore[arg-type]
                            approved_on=day)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise MasteryError(result.diagnostics)
    with OutputFolder(out, names=["backpack_evidence.csv"],
                      inputs=[*files, framework_path]) as folder:
        write_text_atomic(folder.path("backpack_evidence.csv"), result.csv_text())
        folder.commit()
    _report(result.diagnostics, len(files), "files", fmt, quiet=False,
            extra={"rows": len(result.rows), "signed": result.signed})
    emit(f"wrote {len(result.rows)} evidence row(s) to "
         f"{display_path(out / 'backpack_evidence.csv')} ({result.signed} signed credential(s) "
         f"verified, {result.unsigned} unsigned)", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
