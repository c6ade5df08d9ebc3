"""The Jinja environment every report is rendered with.

- Templates are looked up in ``--templates DIR`` first, then in the bundled ``templates/``, so a
  district overrides any template (or the CSS) by giving a file of the same name.
- ``StrictUndefined``: a misspelt variable in a custom template is an error naming the template
  and the line, never a silently blank report card.
- Autoescaping is switched on by file extension, listed explicitly: ``select_autoescape()`` does
  not escape ``*.html.j2``. Student names such as ``<script>`` arrive as text.
- gettext comes from :mod:`mastery_cli.reports.i18n` (``jinja2.ext.i18n``, new-style).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from babel import Locale
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
)
from markupsafe import Markup

from mastery_cli.diagnostics import MasteryError, error
from mastery_cli.reports.i18n import (
    format_long_date,
    format_number,
    format_short_date,
    load_translations,
)
from mastery_cli.resources import templates_dir

#: File endings whose templates are HTML and therefore autoescaped.
AUTOESCAPE_SUFFIXES = (".html", ".htm", ".xml", ".svg", ".html.j2", ".htm.j2", ".svg.j2", ".j2")


def autoescape_for(name: str | None) -> bool:
    # CSS files are included verbatim inside <style>; everything else that renders markup is
    # escaped. Unknown files are escaped too: safer to show &lt; than to run a script.
    if name is None:
        return True
    return not name.endswith((".css", ".css.j2", ".txt"))


def template_search_path(override: Path | None) -> list[Path]:
    bundled = templates_dir()
    return [override, bundled] if override is not None else [bundled]


def css_string(text: str) -> Markup:
    """Text as a CSS string literal (for ``content:`` in @page rules)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    escaped = escaped.replace("<", "\\3C ").replace(">", "\\3E ")
    return Markup(f'"{escaped}"')


def page_counter_css(pattern: str) -> Markup:
    """``Page {page} of {pages}`` -> ``"Page " counter(page) " of " counter(pages)``."""
    parts: list[str] = []
    rest = str(pattern)
    while rest:
        positions = [(rest.find(tag), tag) for tag in ("{page}", "{pages}") if tag in rest]
        if not positions:
            parts.append(css_string(rest))
            break
        index, tag = min(positions)
        if index:
            parts.append(css_string(rest[:index]))
        parts.append(f"counter({tag[1:-1]})")
        rest = rest[index + len(tag):]
    return Markup(" ".join(parts))


def make_environment(
    language: str, locale: Locale, *, override: Path | None = None
) -> Environment:
    """An environment for one language; filters format dates and numbers for ``locale``."""
    loader = FileSystemLoader([str(p) for p in template_search_path(override)], encoding="utf-8")
    env = Environment(
        loader=loader,
        autoescape=autoescape_for,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    translations = load_translations(templates_dir() if override is None else _catalog_root(
        override), language)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]

    def long_date(value: date) -> str:
        return format_long_date(value, locale)

    def short_date(value: date) -> str:
        return format_short_date(value, locale)

    def number(value: float, places: int = 2) -> str:
        return format_number(value, locale, places=places)

    env.filters.update(
        long_date=long_date, short_date=short_date, number=number, css_string=css_string,
        page_counter_css=page_counter_css,
    )
    return env


def _catalog_root(override: Path) -> Path:
    """A district may ship its own catalogs in ``--templates DIR/locale``; else the bundled."""
    return override if (override / "locale").is_dir() else templates_dir()


def template_problem(exc: TemplateError, template_names: Sequence[str] = ()) -> MasteryError:
    """A template error as a diagnostic naming the template file and line."""
    name = getattr(exc, "filename", None) or getattr(exc, "name", None)
    line = getattr(exc, "lineno", None)
    if isinstance(exc, UndefinedError) and (name is None or line is None):
        name, line = _innermost_template_frame(exc, template_names)
    code = "template-syntax" if isinstance(exc, TemplateSyntaxError) else "template-error"
    return MasteryError(error(
        code, f"template problem: {exc.message or exc}", name or "template", line,
        hint="check the spelling against docs/templates.md (templates are strict: every "
             "variable must exist)",
    ))


def _innermost_template_frame(
    exc: BaseException, template_names: Sequence[str]
) -> tuple[str | None, int | None]:
    """The template file and line where a runtime error happened, from the traceback.

    Jinja rewrites tracebacks so template frames carry the template's file name and line.
    """
    found: tuple[str | None, int | None] = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".j2", ".html", ".css")) or filename in template_names:
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found
