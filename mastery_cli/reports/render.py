"""Planning and rendering report documents, over all cores.

:func:`plan_documents` decides which documents a run writes and where (file names come from ids
through :func:`mastery_cli.output.safe_filename`, so no id can write outside ``--out``);
:func:`render_documents` renders them in worker processes (each builds its own Jinja
environment once), writes HTML and, with ``pdf=True``, PDF, and reports progress through a
callback, so the library never prints. :func:`write_index` lists every document in ``--out``.
:func:`write_reports` does both for a run, putting its files in place all together or none.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateError

from mastery_cli.diagnostics import Diagnostic, MasteryError, error, warning
from mastery_cli.output import (
    OutputFolder,
    contained,
    safe_filename,
    write_bytes_atomic,
    write_text_atomic,
)
from mastery_cli.reports.context import Context, ReportData, missing_framework_text
from mastery_cli.reports.environment import make_environment, template_problem

KINDS = ("report-card", "transcript", "i-can", "class-summary")
#: The folder each kind is written to, inside --out.
FOLDERS = {
    "report-card": "report-cards",
    "transcript": "transcripts",
    "i-can": "i-can",
    "class-summary": "class-summaries",
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
    #: What relative links in a PDF's HTML resolve against: --out (``out`` when None), also
    #: while the files are written into a staging folder (`write_reports`).
    base: Path | None = None


@dataclass
class RenderResult:
    written: list[Path] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


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
    students = select_students(data, section=document.key)
    return data.class_summary(document.key, students)


def render_html(env: Environment, data: ReportData, document: Document) -> str:
    template_name = TEMPLATES[document.kind]
    try:
        return env.get_template(template_name).render(build_context(data, document))
    except TemplateError as exc:
        raise template_problem(exc, [template_name]) from None


class _Worker:
    """What a worker process keeps between tasks: the data and one Jinja environment."""

    def __init__(self, data: ReportData, settings: RenderSettings):
        self.data = data
        self.settings = settings
        self.env = make_environment(data.options.language, data.options.locale,
                                    override=settings.templates)
        self._base = settings.base or settings.out

    def write(self, documents: Sequence[Document]) -> tuple[list[Path], list[Diagnostic]]:
        written: list[Path] = []
        try:
            htmls = []
            for document in documents:
                html = render_html(self.env, self.data, document)
                htmls.append(html)
                path = contained(self.settings.out, document.name + ".html")
                write_text_atomic(path, html)
                written.append(path)
                if self.settings.pdf and not self.settings.combine:
                    from mastery_cli.reports.pdf import html_to_pdf

                    pdf_path = path.with_suffix(".pdf")
                    write_bytes_atomic(pdf_path, html_to_pdf(html, self._base))
                    written.append(pdf_path)
        except MasteryError as exc:
            return written, exc.diagnostics
        return written, []

    def combine(self, name: str, documents: Sequence[Document]) -> tuple[list[Path],
                                                                         list[Diagnostic]]:
        from mastery_cli.reports.pdf import combine_to_pdf

        try:
            htmls = [render_html(self.env, self.data, d) for d in documents]
            path = contained(self.settings.out, name + ".pdf")
            write_bytes_atomic(path, combine_to_pdf(htmls, self._base))
        except MasteryError as exc:
            return [], exc.diagnostics
        return [path], []


_WORKER: _Worker | None = None


def _init_worker(data: ReportData, settings: RenderSettings) -> None:
    global _WORKER
    _WORKER = _Worker(data, settings)


def _run_chunk(documents: Sequence[Document]) -> tuple[list[Path], list[Diagnostic]]:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.write(documents)


def _run_combine(name: str, documents: Sequence[Document]) -> tuple[list[Path],
                                                                    list[Diagnostic]]:
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


def combine_groups(documents: Sequence[Document]) -> list[tuple[str, list[Document]]]:
    """Per-student documents grouped by section, for ``--combine`` (one PDF per section)."""
    by_section: dict[str, list[Document]] = {}
    for document in documents:
        for section in document.sections or ("no-section",):
            by_section.setdefault(section, []).append(document)
    names = _unique_names(by_section)
    kind_folder = FOLDERS[documents[0].kind] if documents else ""
    return [(f"{kind_folder}/section-{names[s]}", docs) for s, docs in sorted(by_section.items())]


def render_documents(
    data: ReportData, documents: Sequence[Document], settings: RenderSettings, *,
    jobs: int | None = None, progress: Progress | None = None,
) -> RenderResult:
    """Write every document; with more than one job, in worker processes."""
    jobs = default_jobs() if jobs is None else max(1, jobs)
    combining = settings.pdf and settings.combine and any(d.student for d in documents) and (
        documents[0].kind in ("report-card", "transcript"))
    if settings.pdf:
        from mastery_cli.reports.pdf import weasyprint_module

        weasyprint_module()  # fail early with the install command
    settings.out.mkdir(parents=True, exist_ok=True)
    html_settings = replace(settings, combine=combining)
    tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
        (_run_chunk, (chunk,)) for chunk in _chunks(documents, jobs, settings.pdf and
                                                    not combining)
    ]
    if combining:
        tasks += [(_run_combine, (name, docs)) for name, docs in combine_groups(documents)]
    result = RenderResult()
    total = len(tasks)
    if progress:
        progress(0, total)
    if jobs == 1 or total <= 1:
        _init_worker(data, html_settings)
        for done, (function, args) in enumerate(tasks, start=1):
            _collect(result, function(*args))
            if progress:
                progress(done, total)
    else:
        context = multiprocessing.get_context("fork") if sys.platform == "linux" else None
        # Forked workers share the parent's memory copy-on-write; frozen objects are skipped by
        # the workers' garbage collector, which would otherwise touch (and copy) every page.
        gc.freeze()
        try:
            with ProcessPoolExecutor(max_workers=min(jobs, total), mp_context=context,
                                     initializer=_init_worker,
                                     initargs=(data, html_settings)) as pool:
                futures: list[Future[tuple[list[Path], list[Diagnostic]]]] = [
                    pool.submit(function, *args) for function, args in tasks
                ]
                for done, future in enumerate(as_completed(futures), start=1):
                    _collect(result, future.result())
                    if progress:
                        progress(done, total)
        finally:
            gc.unfreeze()
    result.written.sort()
    if any(d.severity.value == "error" for d in result.diagnostics):
        raise MasteryError(sorted(set(result.diagnostics), key=lambda d: d.message))
    return result


def _collect(result: RenderResult, outcome: tuple[list[Path], list[Diagnostic]]) -> None:
    written, diagnostics = outcome
    result.written.extend(written)
    result.diagnostics.extend(diagnostics)


# -- index ----------------------------------------------------------------------------------

_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def write_reports(
    data: ReportData, documents: Sequence[Document], settings: RenderSettings, *,
    jobs: int | None = None, progress: Progress | None = None, inputs: Sequence[Path] = (),
) -> tuple[RenderResult, Path]:
    """Write the documents (`render_documents`) and the index (`write_index`) into
    ``settings.out``, all of them in place together or none (`OutputFolder`: a document that
    fails leaves --out as it was); the result, with the paths in --out, and the index's path.
    None of the files may overwrite one of ``inputs``."""
    with OutputFolder(settings.out, names=["index.html"], inputs=inputs) as folder:
        staged = replace(settings, out=folder.staging, base=settings.base or settings.out)
        result = render_documents(data, documents, staged, jobs=jobs, progress=progress)
        write_index(data, staged, earlier=settings.out)
        folder.commit()
    result.written = [folder.final(path) for path in result.written]
    return result, settings.out / "index.html"


def write_index(data: ReportData, settings: RenderSettings, *,
                earlier: Path | None = None) -> Path:
    """``index.html`` linking every document in --out (from this and earlier runs).

    ``earlier``: the final --out when ``settings.out`` is a staging folder (`write_reports`);
    its documents are listed too, this run's versions first."""
    env = make_environment(data.options.language, data.options.locale,
                           override=settings.templates)
    roots = [settings.out, *([earlier] if earlier is not None else [])]

    def found(pattern: str, kind: str) -> dict[str, Path]:
        """Files matching ``pattern`` in the kind's folder, by path inside --out."""
        paths: dict[str, Path] = {}
        for root in reversed(roots):  # this run's last: it wins
            folder = root / FOLDERS[kind]
            if folder.is_dir():
                paths |= {p.relative_to(root).as_posix(): p for p in folder.rglob(pattern)
                          if not any(part.startswith(".") for part in
                                     p.relative_to(root).parts)}
        return dict(sorted(paths.items(), key=lambda item: Path(item[0])))

    groups = []
    for kind in KINDS:
        documents = []
        pdfs = found("*.pdf", kind)
        for relative, path in found("*.html", kind).items():
            match = _TITLE.search(path.read_text(encoding="utf-8")[:4000])
            pdf = relative[:-len(".html")] + ".pdf"
            documents.append({
                "href": relative,
                "title": _unescape_title(match.group(1)) if match else relative,
                "pdf": pdf if pdf in pdfs else "",
            })
        if documents:
            groups.append({"kind": kind, "documents": documents})
    combined = [
        {"href": relative, "title": Path(relative).stem}
        for kind in KINDS for relative in found("section-*.pdf", kind)
        if Path(relative).parent.as_posix() == FOLDERS[kind]
    ]
    context = {**data.common(""), "groups": groups, "combined": combined}
    try:
        html = env.get_template("index.html.j2").render(context)
    except TemplateError as exc:
        raise template_problem(exc, ["index.html.j2"]) from None
    path = settings.out / "index.html"
    write_text_atomic(path, html)
    return path


def _unescape_title(text: str) -> str:
    # The title was escaped when its document was rendered; the index escapes it again.
    import html

    return html.unescape(text.strip())
