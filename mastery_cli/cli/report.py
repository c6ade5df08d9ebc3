"""`mastery report`: family-facing report cards, transcripts, "I can" sheets, class summaries."""


import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastery_cli.cli.common import emit, guarded
from mastery_cli.cli.grade import CanvasOutcomesOpt, canvas_map
from mastery_cli.cli.grade_run import print_warnings

if TYPE_CHECKING:
    from mastery_cli.framework.model import Framework

KIND_HELP = ("report-card, transcript, i-can, class-summary or learner; for staff: "
             "exemplars (the exemplar bank, with --rubric) or coverage (SCORES.csv "
             "against --plan).")


@guarded
def report(
    kind: Annotated[str, typer.Argument(help=KIND_HELP, show_default=False)],
    scores: Annotated[
        list[Path] | None,
        typer.Argument(help="Gradebook CSV files to grade first (or use --grades).",
                       show_default=False),
    ] = None,
    framework_path: Annotated[
        Path, typer.Option("--framework", help="Framework file or folder.", show_default=False)
    ] = Path("."),
    grades: Annotated[
        list[str] | None,
        typer.Option("--grades", help="Folder with grades.json from 'mastery grade --format "
                     "json' (instead of SCORES.csv). Transcripts: repeat it for each term, "
                     "or give a folder of term folders; NAME=FOLDER names a term.",
                     show_default=False),
    ] = None,
    policy_path: Annotated[
        Path | None, typer.Option("--policy", help="Grading policy, when grading SCORES.csv.",
                                  show_default=False)
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("reports"),
    lang: Annotated[
        str, typer.Option("--lang", help="Report language: en or es (a region such as es-MX "
                          "sets date and number formats).")
    ] = "en",
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write PDF (needs WeasyPrint).")] = False,
    combine: Annotated[
        bool, typer.Option("--combine", help="With --pdf: one PDF per section instead of one "
                           "per student (report cards and transcripts), each student on whole "
                           "sheets for duplex printing.")
    ] = False,
    templates: Annotated[
        Path | None, typer.Option("--templates", help="Folder of templates overriding the "
                                  "bundled ones by name.", show_default=False)
    ] = None,
    students: Annotated[
        list[str] | None, typer.Option("--student", help="Only this student (repeatable); with "
                                       "i-can, personalized sheets.", show_default=False)
    ] = None,
    section: Annotated[
        str | None, typer.Option("--section", help="Only this section (its students, or its "
                                 "class summary).", show_default=False)
    ] = None,
    comments: Annotated[
        Path | None, typer.Option("--comments", help="Teacher comments CSV: student_id, about, "
                                  "comment.", show_default=False)
    ] = None,
    roster: Annotated[
        Path | None, typer.Option("--roster", help="Roster CSV: student_id and any of "
                                  "grade_level, advisor, section, teacher, days_present, "
                                  "days_absent, date_of_birth (SIS column names are "
                                  "recognised).", show_default=False)
    ] = None,
    report_date: Annotated[
        str | None, typer.Option("--date", help="Report date, YYYY-MM-DD (default: today).",
                                 show_default=False)
    ] = None,
    term: Annotated[str, typer.Option("--term", help="Term shown in the header.")] = "",
    paper: Annotated[str, typer.Option("--paper", help="letter or a4.")] = "letter",
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Worker processes (default: all cores).",
                                 show_default=False)
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    canvas_outcomes: CanvasOutcomesOpt = None,
    rubrics: Annotated[
        list[Path] | None, typer.Option("--rubric", help="Rubric file or folder (repeatable): "
                                        "the exemplar bank's rubrics; on i-can sheets, the "
                                        "exemplars of each level.", show_default=False)
    ] = None,
    plan: Annotated[
        Path | None, typer.Option("--plan", help="With coverage: the assessment plan "
                                  "(kind: assessment-plan).", show_default=False)
    ] = None,
    exemplars: Annotated[
        bool, typer.Option("--exemplars", help="Report cards: show the exemplar of each "
                           "target's level (from --rubric).")
    ] = False,
    learners: Annotated[
        list[Path] | None, typer.Option("--learners", help="Learner records (YAML files, bulk "
                                        "CSV, or folders of them); needed by the learner "
                                        "document.", show_default=False)
    ] = None,
) -> None:
    """Render report cards, transcripts, "I can" sheets, class summaries or learner documents
    as HTML (and PDF).

    Writes self-contained, print-ready HTML per document into --out, plus index.html linking
    every document. Given SCORES.csv, it grades them first as 'mastery grade' does and prints
    what grade prints about them (warnings, where every row went) and the policy it used.
    --grades made with another framework are an error. Exit 0 when written, 1 for problems in
    your files, 2 on misuse (including --pdf without WeasyPrint).

    Examples:

        mastery report report-card --grades out/ --framework examples/ \\
            --out out/reports

        mastery report report-card scores.csv --framework examples/ --lang es \\
            --pdf

        mastery report i-can --grades out/ --framework examples/ --student 0012345

        mastery report report-card --grades out/ --framework examples/ \\
            --roster roster.csv

        mastery report exemplars --framework examples/framework \\
            --rubric examples/rubrics

        mastery report coverage examples/gradebook/*.csv \\
            --framework examples/framework --plan examples/plans/fall-2026.yaml \\
            --out out/coverage

        mastery report learner --grades out/ --framework examples/framework \\
            --learners examples/learners --lang es --pdf

        mastery report transcript --grades "Fall 2026=out/fall" \\
            --grades "Spring 2027=out/spring" --framework examples/
    """
    from mastery_cli.cli.report_staff import STAFF_KINDS

    if kind in STAFF_KINDS:
        _staff_report(kind, scores or [], framework_path, out, pdf=pdf, lang=lang,
                      rubrics=rubrics or [], plan=plan, report_date=report_date)
        return
    from mastery_cli.diagnostics import MasteryError, Severity, error
    from mastery_cli.output import check_output_folder
    from mastery_cli.reports import (
        RenderSettings,
        ReportData,
        ReportOptions,
        language_warnings,
        plan_documents,
    )
    from mastery_cli.reports.context import framework_mismatch
    from mastery_cli.reports.i18n import parse_language, with_region
    from mastery_cli.reports.render import KINDS
    from mastery_cli.reports.terms import Term, merged_grades, ordered_terms
    from mastery_cli.validation import load_framework

    if kind not in KINDS:
        raise typer.BadParameter("choose one of: " + ", ".join(KINDS), param_hint="KIND")
    if paper not in ("letter", "a4"):
        raise typer.BadParameter("choose letter or a4", param_hint="--paper")
    if exemplars and not rubrics:
        raise typer.BadParameter("--exemplars needs --rubric", param_hint="--exemplars")
    if combine and not pdf:
        raise typer.BadParameter("--combine needs --pdf", param_hint="--combine")
    if templates is not None and not templates.is_dir():
        raise typer.BadParameter(f"{templates} is not a folder", param_hint="--templates")
    language, locale = parse_language(lang)
    when = _parse_date(report_date)
    if kind == "learner" and not learners:
        raise typer.BadParameter("the learner document needs --learners (learner files or "
                                 "folders)", param_hint="--learners")
    sources = term_sources(grades or [])
    if len(sources) > 1 and kind != "transcript":
        raise typer.BadParameter("several terms make a transcript only; give one --grades "
                                 f"for {kind}", param_hint="--grades")
    inputs = [framework_path, *(scores or ()), *(learners or ()),
              *(_grades_path(p) for _, p in sources),
              *(p for p in (policy_path, comments, roster, canvas_outcomes) if p)]
    check_output_folder(out, ["index.html"], inputs)  # before any work
    if pdf:
        from mastery_cli.reports.pdf import weasyprint_module

        weasyprint_module()  # before any work: exit 2 with the install command
    framework, warnings = load_framework(framework_path)
    if sources and scores:
        raise MasteryError(error(
            "conflicting-inputs", "give either SCORES.csv files or --grades, not both", "--grades",
        ), usage=True)
    terms: list[Term] = []
    if sources:
        for label, path in sources:
            term_document = _read_grades(path)
            mismatch = framework_mismatch(term_document, framework, str(_grades_path(path)))
            if mismatch is not None and mismatch.severity is Severity.ERROR:
                raise MasteryError(mismatch)
            if mismatch is not None:
                warnings.append(mismatch)
            terms.append(Term(label, term_document, str(_grades_path(path))))
        terms = ordered_terms(terms) if len(terms) > 1 else []
        document = merged_grades(terms) if terms else term_document
    elif scores:
        document = _grade(scores, framework, policy_path, canvas_outcomes)
    else:
        raise MasteryError(error(
            "no-input", "nothing to report on", "SCORES.csv",
            hint="pass gradebook CSV files, or --grades DIR (run mastery grade --format json "
                 "first)",
        ), usage=True)
    if framework.region and not locale.territory:
        locale = with_region(language, locale, framework.region)
        lang = str(locale).replace("_", "-")
    data = ReportData(document, framework, ReportOptions(
        language=language, locale=locale, report_date=when, term=term, paper=paper,
        html_lang=lang.replace("_", "-"),
        exemplars=_exemplars(framework, rubrics or [], language, warnings),
        report_card_exemplars=exemplars,
    ), terms=terms)
    if comments is not None:
        from mastery_cli.reports.comments import read_comments

        known = [*framework.targets, *framework.competencies, *framework.courses]
        data.comments, comment_problems = read_comments(comments, known, data.students)
        warnings.extend(comment_problems)
    if roster is not None:
        from mastery_cli.reports.roster import read_roster

        data.roster, roster_problems = read_roster(roster, data.students)
        warnings.extend(roster_problems)
    if kind == "learner" and learners:
        from mastery_cli.learner.load import load_learners

        records, learner_notes = load_learners(learners, framework)
        data.learners = {r.student_id: r for r in records}
        warnings.extend(learner_notes)
    # One summary line instead of the validator's warning per missing text (the summary's
    # hint points at `mastery validate` for the places).
    warnings = [w for w in warnings if w.code != "missing-translation"]
    warnings.extend(language_warnings(data))
    documents = plan_documents(data, kind, students=students or (), section=section)
    settings = RenderSettings(out=out, templates=templates, pdf=pdf, combine=combine,
                              section=section)
    result, index = _render(data, documents, settings, jobs, quiet, inputs)
    print_warnings(warnings + result.diagnostics)
    pdfs = sum(1 for p in result.written if p.suffix == ".pdf")
    html = sum(1 for p in result.written if p.suffix == ".html")
    emit(f"wrote {html} HTML" + (f" and {pdfs} PDF" if pdf else "") + f" {kind} document"
         + ("" if html == 1 else "s") + f" into {out} (index: {index})", err=True)


def _exemplars(framework: "Framework", rubrics: list[Path], language: str,
               warnings: list[Any]) -> dict[str, Any]:
    """With --rubric: the exemplars "I can" sheets show next to each level."""
    if not rubrics:
        return {}
    from mastery_cli.rubrics import load_rubrics
    from mastery_cli.rubrics.bank import exemplar_index

    loaded, rubric_warnings = load_rubrics(rubrics, framework)
    warnings.extend(rubric_warnings)
    return exemplar_index(framework, loaded, language)


def _staff_report(kind: str, scores: list[Path], framework_path: Path, out: Path, *, pdf: bool,
                  lang: str, rubrics: list[Path], plan: Path | None,
                  report_date: str | None) -> None:
    from mastery_cli.cli.report_staff import report_coverage, report_exemplars

    if kind == "exemplars":
        report_exemplars(framework_path, rubrics, out, pdf=pdf, lang=lang)
    else:
        report_coverage(scores, framework_path, plan, out, pdf=pdf,
                        as_of=_parse_date(report_date) if report_date else None)


def _parse_date(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2026-01-30",
                                 param_hint="--date") from None


def term_sources(values: list[str]) -> list[tuple[str, Path]]:
    """Each --grades value as (term name, folder or grades.json): ``NAME=FOLDER`` names the
    term; a folder holding no grades.json but folders that do is one term per folder (named
    by it); otherwise the term is named by its folder."""
    sources: list[tuple[str, Path]] = []
    for value in values:
        label, _, rest = value.partition("=")
        if rest and not Path(value).exists():
            sources.append((label.strip(), Path(rest)))
            continue
        path = Path(value)
        inner: list[Path] = []
        if path.is_dir() and not (path / "grades.json").exists():
            try:
                inner = sorted(p for p in path.iterdir() if (p / "grades.json").is_file())
            except OSError:  # unreadable: reading its grades.json says why
                inner = []
        if inner:
            sources += [(p.name, p) for p in inner]
        else:
            sources.append((_grades_path(path).parent.name, path))
    return sources


def _grades_path(folder: Path) -> Path:
    return folder / "grades.json" if folder.is_dir() else folder


def _read_grades(folder: Path) -> dict[str, Any]:
    from mastery_cli.diagnostics import MasteryError, error
    from mastery_cli.inputs import hint_for, read_regular_text
    from mastery_cli.jsonfile import JsonProblem, parse_json

    path = _grades_path(folder)
    try:
        document = parse_json(read_regular_text(path))
    except JsonProblem as exc:
        raise MasteryError(exc.diagnostic(str(path))) from None
    except FileNotFoundError:
        raise MasteryError(error(
            "missing-file", f"{path} does not exist", str(path),
            hint="write it with: mastery grade SCORES.csv --framework ... --format json --out DIR",
        ), usage=True) from None
    except OSError as exc:  # a pipe, a device, a link loop: never opened
        raise MasteryError(error("bad-grades-file", f"cannot read {path}: {exc.strerror}",
                                 str(path), hint=hint_for(exc))) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MasteryError(error("bad-grades-file", f"cannot read {path}: {exc}", str(path),
                                 hint="write it again with mastery grade --format json")) from None
    if not isinstance(document, dict):
        raise MasteryError(error("bad-grades-file", f"{path} is not a grades.json document",
                                 str(path)))
    misplaced = _grades_shape_problem(document)
    if misplaced is not None:
        raise MasteryError(error(
            "bad-grades-file", f"{path} is not a grades.json document: {misplaced}", str(path),
            hint="write it again with mastery grade --format json"))
    return document


# Each list of a student's results, with the id field every entry of it has.
_RESULT_LISTS = {"targets": "target", "competencies": "competency", "courses": "course",
                 "progress": "progression"}


def _grades_shape_problem(document: dict[str, Any]) -> str | None:
    """Where a hand-edited grades.json stops having the shape the reports read, else None.

    Only the containers are checked (the reports already read each result's values tolerantly);
    a string where a result object belongs would otherwise end as an internal error.
    """
    students = document.get("students")
    if students is None:
        return None
    if not isinstance(students, list):
        return "'students' is not a list"
    for number, student in enumerate(students):
        if not isinstance(student, dict):
            return f"students[{number}] is not an object"
        for key, id_field in _RESULT_LISTS.items():
            results = student.get(key)
            if results is None:
                continue
            if not isinstance(results, list):
                return f"students[{number}].{key} is not a list"
            for index, result in enumerate(results):
                if not isinstance(result, dict) or id_field not in result:
                    return (f"students[{number}].{key}[{index}] is not an object with "
                            f"'{id_field}'")
    return None


def _grade(
    scores: list[Path], framework: "Framework", policy_path: Path | None,
    canvas_outcomes: Path | None,
) -> dict[str, Any]:
    """Grade the CSV files in-process, exactly as `mastery grade` does, and say so as it does
    (the policy's and the files' warnings, where every row went) and with which policy; the
    grades.json document."""
    from rich.console import Console

    from mastery_cli.cli.grade_run import print_row_accounting
    from mastery_cli.grading.outputs import grades_document
    from mastery_cli.grading.pipeline import grade
    from mastery_cli.grading.policy import default_policy, method_label
    from mastery_cli.grading.policy_check import load_policy
    from mastery_cli.grading.summary import RunSummary

    policy, policy_warnings = ((default_policy(), []) if policy_path is None
                               else load_policy(policy_path, framework))
    result = grade(scores, framework, policy,
                   outcome_map=canvas_map(framework, canvas_outcomes))
    print_warnings([*policy_warnings, *result.diagnostics])
    print_row_accounting(RunSummary.of(result), Console(stderr=True, highlight=False))
    method = method_label(policy.method)
    if policy_path is None:
        emit(f"Graded with the default policy (no --policy given): {method}, every piece of "
             "evidence counts, one score is enough.", err=True)
    else:
        overrides = (f"; overrides for {', '.join(sorted(policy.overrides))}"
                     if policy.overrides else "")
        emit(f"Graded with policy '{policy.id}' ({policy_path}): {method}{overrides}.",
             err=True)
    return grades_document(result)


def _render(data: Any, documents: Any, settings: Any, jobs: int | None, quiet: bool,
            inputs: list[Path]) -> Any:
    from mastery_cli.reports import write_reports

    if quiet or len(documents) < 2:
        return write_reports(data, documents, settings, jobs=jobs, inputs=inputs)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True,
                  disable=not console.is_terminal) as bar:
        task = bar.add_task(f"rendering {len(documents)} documents", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return write_reports(data, documents, settings, jobs=jobs, progress=progress,
                             inputs=inputs)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
