"""Planning and rendering report documents, over all cores.

:func:`plan_documents` decides which documents a run writes and where (file names come from ids
through :func:`mastery_cli.output.safe_filename`, so no id can write outside ``--out``);
:func:`render_documents` renders them in worker processes (each builds its own Jinja
environment once), writes HTML and, with ``pdf=True``, PDF, and reports progress through a
callback, so the library never prints. :func:`write_index` lists every document in ``--out``.

A run's files appear together or not at all: each is written under a temporary name beside its
target, and only when every document (and the index) rendered are they all renamed into place.
A template problem in one document leaves ``--out`` as it was.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import Environment, TemplateError

from mastery_cli.diagnostics import Diagnostic, MasteryError, error, sort_key, warning
from mastery_cli.output import (
    OutputFolder,
    PendingFile,
    contained,
    safe_filename,
    write_text_atomic,
)
from mastery_cli.reports.context import Context, ReportData, missing_framework_text
from mastery_cli.reports.environment import (
    has_user_templates,
    make_environment,
    template_problem,
)

KINDS = ("report-card", "transcript", "i-can", "class-summary", "learner")
#: The folder each kind is written to, inside --out.
FOLDERS = {
    "report-card": "report-cards",
    "transcript": "transcripts",
    "i-can": "i-can",
    "class-summary": "class-summaries",
    "learner": "learners",
}
TEMPLATES = {kind: f"{kind}.html.j2" for kind in KINDS}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Document:
    """One document to write: what it is about and its path inside --out (no extension)."""

    kind: str
    key: str
    name: str
    title: str
    student: str | None = None
    sections: tuple[str, ...] = ()


@dataclass
class RenderSettings:
    out: Path
    templates: Path | None = None
    pdf: bool = False
    combine: bool = False
    #: With ``combine``: only this section's PDF (``--section``), not one per section of
    #: every student in it.
    section: str | None = None


@dataclass
class RenderResult:
    """What a run wrote (``written``, once committed) or is about to (``pending``)."""

    written: list[Path] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    pending: list[PendingFile] = field(default_factory=list)
    #: Folders the run creates (deepest first): removed again when the run is discarded.
    new_folders: list[Path] = field(default_factory=list)

    def commit(self) -> None:
        """Put every pending file in place."""
        pending, self.pending = self.pending, []
        self.written.extend(file.commit() for file in pending)
        self.written.sort()

    def discard(self) -> None:
        """Delete every pending file, and the folders the run created (when left empty)."""
        pending, self.pending = self.pending, []
        for file in pending:
            file.discard()
        for folder in self.new_folders:
            with suppress(OSError):
                folder.rmdir()


# -- planning -------------------------------------------------------------------------------


def select_students(data: ReportData, students: Sequence[str] = (),
                    section: str | None = None) -> list[str]:
    """Student ids in grades.json order, narrowed to ``students`` and ``section``."""
    chosen = list(data.students)
    if students:
        for student_id in students:
            data.student(student_id)  # an unknown id is a usage error naming it
        wanted = set(students)
        chosen = [s for s in chosen if s in wanted]
    if section is not None:
        chosen = [s for s in chosen if section in _sections(data, s)]
        if not chosen:
            raise MasteryError(error(
                "unknown-section", f"no student in section '{section}'", "--section",
                hint="sections found: " + ", ".join(all_sections(data)),
            ), usage=True)
    return chosen


def _sections(data: ReportData, student_id: str) -> list[str]:
    return [str(s) for s in data.students[student_id].get("sections") or []]


def all_sections(data: ReportData) -> list[str]:
    return sorted({s for student_id in data.students for s in _sections(data, student_id)})


def _unique_names(keys: Iterable[str]) -> dict[str, str]:
    """A safe, distinct file name per key; keys that fold to the same name get a hash suffix."""
    keys = list(dict.fromkeys(keys))
    names: dict[str, str] = {}
    folded: dict[str, list[str]] = {}
    for key in keys:
        folded.setdefault(safe_filename(key).lower(), []).append(key)
    for key in keys:
        base = safe_filename(key)
        if len(folded[base.lower()]) > 1:
            base = f"{base}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:8]}"
        names[key] = base
    return names


def plan_documents(data: ReportData, kind: str, *, students: Sequence[str] = (),
                   section: str | None = None) -> list[Document]:
    if kind not in KINDS:
        raise MasteryError(error(
            "unknown-kind", f"unknown report kind '{kind}'", "KIND",
            hint="choose one of: " + ", ".join(KINDS),
        ), usage=True)
    folder = FOLDERS[kind]
    if kind == "learner":
        return _plan_learners(data, folder, students, section)
    chosen = select_students(data, students, section)
    names = _unique_names(data.students)
    if kind in ("report-card", "transcript"):
        return [
            Document(kind, s, f"{folder}/{names[s]}", _name_of(data, s), s,
                     tuple(_sections(data, s)))
            for s in chosen
        ]
    if kind == "class-summary":
        sections = [section] if section is not None else sorted(
            {s for student_id in chosen for s in _sections(data, student_id)})
        section_names = _unique_names(sections)
        return [Document(kind, s, f"{folder}/{section_names[s]}", s, None, (s,))
                for s in sections]
    # i-can: one document per course; personalised per student with --student.
    course_names = _unique_names(data.framework.courses)
    if students:
        docs = []
        for student_id in chosen:
            for course_id in data.student_courses(data.students[student_id]) or list(
                    data.framework.courses):
                docs.append(Document(
                    kind, course_id, f"{folder}/{names[student_id]}/{course_names[course_id]}",
                    f"{data.text(data.framework.courses[course_id].title)} — "
                    f"{_name_of(data, student_id)}", student_id,
                    tuple(_sections(data, student_id)),
                ))
        return docs
    return [Document(kind, c, f"{folder}/{course_names[c]}", data.text(course.title))
            for c, course in data.framework.courses.items()]


def _plan_learners(data: ReportData, folder: str, students: Sequence[str],
                   section: str | None) -> list[Document]:
    """One learner document per student with a learner record (in grades.json order, then
    records of students grade has no results for)."""
    ordered = [s for s in data.students if s in data.learners]
    ordered += [s for s in data.learners if s not in data.students]
    if students:
        missing = [s for s in students if s not in data.learners]
        if missing:
            raise MasteryError(error(
                "unknown-student", f"no learner record for student '{missing[0]}'",
                "--student", hint="learner records found for: " + ", ".join(data.learners)),
                usage=True)
        ordered = [s for s in ordered if s in set(students)]
    if section is not None:
        ordered = [s for s in ordered if s in data.students and section in _sections(data, s)]
    names = _unique_names(ordered)
    return [Document("learner", s, f"{folder}/{names[s]}",
                     _name_of(data, s) if s in data.students else (data.learners[s].name or s),
                     s, tuple(_sections(data, s)) if s in data.students else ())
            for s in ordered]


def _name_of(data: ReportData, student_id: str) -> str:
    return str(data.students[student_id].get("name") or student_id)


def language_warnings(data: ReportData) -> list[Diagnostic]:
    """One warning listing the framework text that falls back to the default language."""
    missing = missing_framework_text(data.framework, data.options.language)
    if not missing:
        return []
    shown = ", ".join(missing[:12]) + (f" and {len(missing) - 12} more" if len(missing) > 12
                                       else "")
    return [warning(
        "missing-translation",
        f"{len(missing)} framework text(s) have no '{data.options.language}' version and are "
        f"shown in '{data.framework.default_language}': {shown}",
        data.framework.files[0] if data.framework.files else data.framework.id,
        hint="add the translations to the framework's per-language maps; "
             "'mastery validate' shows where each one is missing",
    )]


# -- rendering ------------------------------------------------------------------------------


def build_context(data: ReportData, document: Document) -> Context:
    if document.kind == "report-card":
        return data.report_card(document.key)
    if document.kind == "transcript":
        return data.transcript(document.key)
    if document.kind == "i-can":
        return data.i_can(document.key, document.student)
    if document.kind == "learner":
        from mastery_cli.reports.learner_view import learner_document

        return learner_document(data, data.learners[document.key])
    students = select_students(data, section=document.key)
    return data.class_summary(document.key, students)


def render_html(env: Environment, data: ReportData, document: Document) -> str:
    return render_template(env, TEMPLATES[document.kind], build_context(data, document))


def render_template(env: Environment, name: str, context: Context) -> str:
    """The template ``name`` rendered; whatever goes wrong in it is a template diagnostic.

    With ``--templates``, any exception while rendering (``1 / 0``, endless recursion, a
    filter given the wrong type) comes from the district's template; without, only Jinja's own
    errors do, and anything else is a bug in mastery.
    """
    try:
        return env.get_template(name).render(context)
    except Exception as exc:
        if not isinstance(exc, TemplateError) and not has_user_templates(env):
            raise
        raise template_problem(exc, env) from None


def _rendered_for(env: Environment, data: ReportData, document: Document) -> str:
    """:func:`render_html`, its problems saying which document they happened in (a template
    may fail on one student's data only)."""
    try:
        return render_html(env, data, document)
    except MasteryError as exc:
        exc.diagnostics = [
            replace(d, message=f"{d.message.rstrip('.')}, rendering {document.name}")
            for d in exc.diagnostics]
        raise


def _one_per_place(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """One diagnostic per template line: the first document's, with how many more failed
    there (a typo in a template fails every document the same way)."""
    places: dict[tuple[str, int | None, str], list[Diagnostic]] = {}
    for diagnostic in sorted(set(diagnostics), key=lambda d: (sort_key(d), d.message)):
        places.setdefault((diagnostic.path, diagnostic.line, diagnostic.code),
                          []).append(diagnostic)
    found = []
    for same in places.values():
        first, more = same[0], len(same) - 1
        found.append(first if not more else replace(
            first, message=f"{first.message} and {more} more document{'s' * (more > 1)}"))
    return sorted(found, key=lambda d: d.message)


def _pending(path: Path, content: bytes) -> PendingFile:
    file = PendingFile(path)
    file.write([content])
    return file


Outcome = tuple[list[PendingFile], list[Diagnostic]]


class _Worker:
    """What a worker process keeps between tasks: the data and one Jinja environment.

    Files are written under temporary names and handed back to the parent, which puts them in
    place only when every task succeeded.
    """

    def __init__(self, data: ReportData, settings: RenderSettings):
        self.data = data
        self.settings = settings
        self.problems: list[Diagnostic] = []
        try:
            self.env = make_environment(data.options.language, data.options.locale,
                                        override=settings.templates)
        except MasteryError as exc:  # a broken catalog: each task reports it
            self.problems = exc.diagnostics

    def write(self, documents: Sequence[Document]) -> Outcome:
        if self.problems:
            return [], self.problems
        pending: list[PendingFile] = []
        try:
            for document in documents:
                html = _rendered_for(self.env, self.data, document)
                path = contained(self.settings.out, document.name + ".html")
                pending.append(_pending(path, html.encode("utf-8")))
                if self.settings.pdf and not self.settings.combine:
                    from mastery_cli.reports.pdf import html_to_pdf

                    pdf = html_to_pdf(html, self.settings.out)
                    pending.append(_pending(path.with_suffix(".pdf"), pdf))
        except BaseException as exc:
            for file in pending:
                file.discard()
            if isinstance(exc, MasteryError):
                return [], exc.diagnostics
            raise
        return pending, []

    def combine(self, name: str, documents: Sequence[Document]) -> Outcome:
        from mastery_cli.reports.pdf import combine_to_pdf

        if self.problems:
            return [], self.problems
        try:
            htmls = [_rendered_for(self.env, self.data, d) for d in documents]
            path = contained(self.settings.out, name + ".pdf")
            return [_pending(path, combine_to_pdf(htmls, self.settings.out))], []
        except MasteryError as exc:
            return [], exc.diagnostics


_WORKER: _Worker | None = None


def _init_worker(data: ReportData, settings: RenderSettings) -> None:
    global _WORKER
    _WORKER = _Worker(data, settings)


def _run_chunk(documents: Sequence[Document]) -> Outcome:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.write(documents)


def _run_combine(name: str, documents: Sequence[Document]) -> Outcome:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.combine(name, documents)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _chunks(documents: Sequence[Document], jobs: int, pdf: bool) -> list[list[Document]]:
    # Big enough to amortise the hand-over to a worker, small enough to balance the load.
    size = 1 if pdf else max(1, min(50, len(documents) // (jobs * 4) or 1))
    return [list(documents[i:i + size]) for i in range(0, len(documents), size)]


def combine_groups(documents: Sequence[Document], section: str | None = None
                   ) -> list[tuple[str, list[Document]]]:
    """Per-student documents grouped by section, for ``--combine`` (one PDF per section);
    with ``section``, that section's group alone (its students' other sections are not
    printed with it)."""
    by_section: dict[str, list[Document]] = {}
    for document in documents:
        for name in document.sections or ("no-section",):
            if section is None or name == section:
                by_section.setdefault(name, []).append(document)
    names = _unique_names(by_section)
    kind_folder = FOLDERS[documents[0].kind] if documents else ""
    return [(f"{kind_folder}/section-{names[s]}", docs) for s, docs in sorted(by_section.items())]


def render_documents(
    data: ReportData, documents: Sequence[Document], settings: RenderSettings, *,
    jobs: int | None = None, progress: Progress | None = None, commit: bool = True,
) -> RenderResult:
    """Write every document; with more than one job, in worker processes.

    All or nothing: a problem in any document (a :class:`MasteryError`) leaves no file of the
    run behind. With ``commit=False`` the files stay pending in the result, for
    :func:`write_index` to put in place together with the index.
    """
    jobs = default_jobs() if jobs is None else max(1, jobs)
    combining = settings.pdf and settings.combine and any(d.student for d in documents) and (
        documents[0].kind in ("report-card", "transcript"))
    if settings.pdf:
        from mastery_cli.reports.pdf import weasyprint_module

        weasyprint_module()  # fail early with the install command
    # A broken catalog is found here, once, before any worker starts.
    make_environment(data.options.language, data.options.locale, override=settings.templates)
    html_settings = RenderSettings(settings.out, settings.templates, settings.pdf, combining,
                                   settings.section)
    tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
        (_run_chunk, (chunk,)) for chunk in _chunks(documents, jobs, settings.pdf and
                                                    not combining)
    ]
    groups = combine_groups(documents, settings.section) if combining else []
    tasks += [(_run_combine, (name, docs)) for name, docs in groups]
    result = RenderResult(new_folders=_new_folders(
        settings.out, [d.name for d in documents] + [name for name, _ in groups]))
    settings.out.mkdir(parents=True, exist_ok=True)
    try:
        _run_tasks(result, data, html_settings, tasks, jobs, progress)
        if any(d.severity.value == "error" for d in result.diagnostics):
            raise MasteryError(_one_per_place(result.diagnostics))
        if commit:
            result.commit()
    except BaseException:
        result.discard()
        raise
    return result


def _run_tasks(
    result: RenderResult, data: ReportData, settings: RenderSettings,
    tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]], jobs: int,
    progress: Progress | None,
) -> None:
    total = len(tasks)
    if progress:
        progress(0, total)
    if jobs == 1 or total <= 1:
        _init_worker(data, settings)
        for done, (function, args) in enumerate(tasks, start=1):
            _collect(result, function(*args))
            if progress:
                progress(done, total)
        return
    # Fresh worker processes ("spawn", as on every platform but Linux by default): a forked
    # copy of this process would inherit its threads and locks half-held.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, total), mp_context=context,
                             initializer=_init_worker,
                             initargs=(data, settings)) as pool:
        futures: list[Future[Outcome]] = [
            pool.submit(function, *args) for function, args in tasks
        ]
        collected: set[Future[Outcome]] = set()
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                _collect(result, future.result())
                collected.add(future)
                if progress:
                    progress(done, total)
        except BaseException:
            # Collect what the other workers wrote, for the caller to discard.
            for future in futures:
                future.cancel()
            for future in futures:
                if (future not in collected and not future.cancelled()
                        and future.exception() is None):
                    _collect(result, future.result())
            raise


def _collect(result: RenderResult, outcome: Outcome) -> None:
    pending, diagnostics = outcome
    result.pending.extend(pending)
    result.diagnostics.extend(diagnostics)


def _new_folders(out: Path, names: Iterable[str]) -> list[Path]:
    """The folders that writing ``names`` into ``out`` would create, deepest first."""
    folders = {out.absolute(), *out.absolute().parents}
    for name in names:
        folders.update(out.absolute() / parent for parent in PurePosixPath(name).parents)
    return sorted((f for f in folders if not f.exists()), key=lambda f: len(f.parts),
                  reverse=True)


# -- index ----------------------------------------------------------------------------------

_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def write_reports(
    data: ReportData, documents: Sequence[Document], settings: RenderSettings, *,
    jobs: int | None = None, progress: Progress | None = None, inputs: Sequence[Path] = (),
) -> tuple[RenderResult, Path]:
    """Write the documents (:func:`render_documents`) and the index (:func:`write_index`)
    into ``settings.out`` through one `OutputFolder`: all of them in place together or none
    (a problem in any document leaves --out as it was), and none over one of ``inputs``.
    The result, with the paths in --out, and the index's path."""
    with OutputFolder(settings.out, names=["index.html"], inputs=inputs) as folder:
        staged = replace(settings, out=folder.staging)
        result = render_documents(data, documents, staged, jobs=jobs, progress=progress)
        write_index(data, staged, earlier=settings.out)
        folder.commit()
    result.written = [folder.final(path) for path in result.written]
    return result, settings.out / "index.html"


def write_index(data: ReportData, settings: RenderSettings,
                run: RenderResult | None = None, *, earlier: Path | None = None) -> Path:
    """``index.html`` linking every document in --out (from this and earlier runs).

    Given the ``run`` of :func:`render_documents` with ``commit=False``, its pending documents
    are listed too, and they and the index are put in place together (or, when the index
    template fails, none of them). ``earlier``: the final --out when ``settings.out`` is the
    staging folder of `write_reports`; its documents are listed too, this run's first.
    """
    pending = {file.path: Path(file.temp) for file in run.pending} if run else {}
    try:
        html = _index_html(data, settings, pending, earlier)
    except BaseException:
        if run is not None:
            run.discard()
        raise
    path = settings.out / "index.html"
    if run is None:
        write_text_atomic(path, html)
        return path
    index: PendingFile | None = None
    try:
        index = _pending(path, html.encode("utf-8"))
        run.commit()
        index.commit()
    except BaseException:
        if index is not None:
            index.discard()
        run.discard()
        raise
    return path


def _index_html(data: ReportData, settings: RenderSettings, pending: dict[Path, Path],
                earlier: Path | None = None) -> str:
    """The index of the documents in --out, the ``pending`` ones (target: where it is now),
    and those in ``earlier`` that this run does not write again."""
    env = make_environment(data.options.language, data.options.locale,
                           override=settings.templates)
    out = settings.out.resolve()
    groups = []
    combined = []
    for kind in KINDS:
        folder = out / FOLDERS[kind]
        found: dict[Path, Path] = {}
        pdfs: set[Path] = set()
        if earlier is not None and (earlier / FOLDERS[kind]).is_dir():
            before = earlier.resolve() / FOLDERS[kind]  # listed as if they were in --out
            found = {folder / p.relative_to(before): p for p in before.rglob("*.html")}
            pdfs = {folder / p.relative_to(before) for p in before.rglob("*.pdf")}
        found.update({p: p for p in folder.rglob("*.html")} if folder.is_dir() else {})
        found.update({t: s for t, s in pending.items() if t.suffix == ".html"
                      and folder in t.parents})
        pdfs |= {*(folder.rglob("*.pdf") if folder.is_dir() else ()),
                 *(t for t in pending if t.suffix == ".pdf")}
        documents = []
        for path in sorted(found):
            relative = path.relative_to(out).as_posix()
            match = _TITLE.search(found[path].read_text(encoding="utf-8")[:4000])
            pdf = path.with_suffix(".pdf")
            documents.append({
                "href": relative,
                "title": _unescape_title(match.group(1)) if match else relative,
                "pdf": pdf.relative_to(out).as_posix() if pdf in pdfs else "",
            })
        if documents:
            groups.append({"kind": kind, "documents": documents})
        combined += [{"href": p.relative_to(out).as_posix(), "title": p.stem}
                     for p in sorted(p for p in pdfs if p.parent == folder
                                     and p.name.startswith("section-"))]
    context = {**data.common(""), "groups": groups, "combined": combined}
    return render_template(env, "index.html.j2", context)


def _unescape_title(text: str) -> str:
    # The title was escaped when its document was rendered; the index escapes it again.
    import html

    return html.unescape(text.strip())
