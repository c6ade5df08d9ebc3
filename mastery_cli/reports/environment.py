"""The Jinja environment every report is rendered with.

- Templates are looked up in ``--templates DIR`` first, then in the bundled ``templates/``, so a
  district overrides any template (or the CSS) by giving a file of the same name.
- ``StrictUndefined``: a misspelt variable in a custom template is an error naming the template
  and the line, never a silently blank report card.
- Autoescaping is switched on by file extension, listed explicitly: ``select_autoescape()`` does
  not escape ``*.html.j2``. Student names such as ``<script>`` arrive as text.
- gettext comes from :mod:`mastery_cli.reports.i18n` (``jinja2.ext.i18n``, new-style).
- Sandboxed (``ImmutableSandboxedEnvironment``): a district's template is code from outside, so
  it gets no ``_``-attributes (``cycler.__init__.__globals__``, ``''.__class__.__mro__``), no
  ``open``, cannot change the data it is given (which later documents share) and cannot build
  strings or numbers big enough to exhaust memory.
- Whatever goes wrong in a template — syntax, an unknown variable, ``1 / 0``, a file that is not
  UTF-8, an include that is missing or includes itself, a broken catalog — is one diagnostic
  naming the template file and line (:func:`template_problem`).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from babel import Locale
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateRuntimeError,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.loaders import split_template_path
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
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


#: The longest string or list a template may build with ``*`` (a report card is about 50 kB).
MAX_REPEAT = 1_000_000
#: The largest number a template may compute with ``**``, in bits.
MAX_POWER_BITS = 4096


class TemplateFileError(TemplateError):
    """A template file that cannot be read as UTF-8 text, at the line of the first bad byte."""

    def __init__(self, message: str, filename: str, lineno: int | None, hint: str) -> None:
        super().__init__(message)
        self.filename = filename
        self.lineno = lineno
        self.hint = hint


class TemplateLoader(FileSystemLoader):
    """The search path of :func:`template_search_path`; a file that is not UTF-8 (or cannot be
    read) is a :class:`TemplateFileError` naming it, not a UnicodeDecodeError."""

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        filename, folder = self._found(template)
        if filename is not None and folder is not None and not _inside(filename, folder):
            # A link in a template pack to ~/.ssh/id_rsa would print the key in every report.
            raise TemplateFileError(
                "the template is a link to a file outside its folder",
                os.path.normpath(filename), None, "copy the file into the templates folder")
        try:
            return super().get_source(environment, template)
        except TemplateNotFound:
            raise
        except (UnicodeDecodeError, OSError) as exc:
            raise _unreadable(os.path.normpath(filename or template), exc) from None

    def _found(self, template: str) -> tuple[str | None, str | None]:
        """The file ``template`` names and the search folder it is in, as Jinja finds it."""
        pieces = split_template_path(template)
        for searchpath in self.searchpath:
            filename = posixpath.join(searchpath, *pieces)
            if os.path.isfile(filename):
                return filename, searchpath
        return None, None


def _inside(filename: str, folder: str) -> bool:
    real, root = os.path.realpath(filename), os.path.realpath(folder)
    return os.path.commonpath([real, root]) == root


_SAVE_AS_UTF8 = "save the template as UTF-8 text (most editors offer it under 'Save with encoding')"


def _unreadable(filename: str, exc: Exception) -> TemplateFileError:
    if not isinstance(exc, UnicodeDecodeError):
        reason = getattr(exc, "strerror", None) or exc
        return TemplateFileError(f"cannot read the template: {reason}", filename, None,
                                 "check the file's permissions")
    content = Path(filename).read_bytes()
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = content.count(b"\n", 0, bad.start) + 1
        return TemplateFileError(
            f"the template is not UTF-8 text (byte 0x{content[bad.start]:02x} at byte "
            f"{bad.start + 1})", filename, line, _SAVE_AS_UTF8)
    return TemplateFileError(f"the template is not UTF-8 text ({exc.reason})", filename, None,
                             _SAVE_AS_UTF8)


class ReportEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, plus limits on ``*`` and ``**``: ``'x' * 10**10`` would exhaust memory
    (or get the process killed) before any error could be reported."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if _power_bits(left, right) > MAX_POWER_BITS:
                raise SecurityError(f"{left!r} ** {right!r} is too large a number for a report")
            return left ** right
        for sequence, count in ((left, right), (right, left)):
            if (isinstance(sequence, (str, list, tuple)) and isinstance(count, int)
                    and len(sequence) * count > MAX_REPEAT):
                raise SecurityError(
                    f"repeating {len(sequence):,} items {count:,} times is too long for a "
                    f"report (at most {MAX_REPEAT:,})")
        return left * right


def _power_bits(base: Any, exponent: Any) -> int:
    """About how many bits ``base ** exponent`` has (0 when it is small or not integers)."""
    if not (isinstance(base, int) and isinstance(exponent, int)) or exponent <= 0:
        return 0
    return max(abs(base).bit_length() - 1, 0) * exponent


def make_environment(
    language: str, locale: Locale, *, override: Path | None = None
) -> Environment:
    """An environment for one language; filters format dates and numbers for ``locale``."""
    loader = TemplateLoader([str(p) for p in template_search_path(override)], encoding="utf-8")
    env = ReportEnvironment(
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

    # The filters refuse a wrong value in words: Babel's own errors name no value
    # ("[<class 'decimal.ConversionSyntax'>]").
    def long_date(value: date) -> str:
        return format_long_date(_date_for("long_date", value), locale)

    def short_date(value: date) -> str:
        return format_short_date(_date_for("short_date", value), locale)

    def number(value: float, places: int = 2) -> str:
        try:
            return format_number(value, locale, places=places)
        except (ValueError, TypeError, ArithmeticError):
            raise TemplateRuntimeError(
                f"the number filter needs a number, not {_shown(value)}") from None

    env.filters.update(
        long_date=long_date, short_date=short_date, number=number, css_string=css_string,
        page_counter_css=page_counter_css,
    )
    return env


def _date_for(name: str, value: Any) -> date:
    if not isinstance(value, date):
        raise TemplateRuntimeError(f"the {name} filter needs a date, not {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _catalog_root(override: Path) -> Path:
    """A district may ship its own catalogs in ``--templates DIR/locale``; else the bundled."""
    return override if (override / "locale").is_dir() else templates_dir()


def template_problem(exc: BaseException, env: Environment) -> MasteryError:
    """Anything that went wrong rendering a template, as one diagnostic naming the template
    file and line: where Jinja says (syntax, encoding), else the innermost template frame of the
    traceback (Jinja rewrites tracebacks so template frames carry the file and line)."""
    name: str | None = None
    line: int | None = None
    if isinstance(exc, TemplateSyntaxError):
        name, line = exc.filename or exc.name, exc.lineno
    elif isinstance(exc, TemplateFileError):
        name, line = exc.filename, exc.lineno
    else:
        frames = _template_frames(exc, _search_roots(env))
        if isinstance(exc, RecursionError):
            # Where the loop starts: the innermost frame depends on how deep the stack was.
            frames = [f for f in frames if frames.count(f) > 1][:1]
        name, line = frames[-1] if frames else (None, None)
    code = "template-syntax" if isinstance(exc, TemplateSyntaxError) else "template-error"
    message, hint = _explain(exc)
    return MasteryError(error(code, f"template problem: {message}", name or "template", line,
                              hint=hint))


def _explain(exc: BaseException) -> tuple[str, str]:
    """The message and the hint for a template problem, by what went wrong."""
    if isinstance(exc, TemplateNotFound):
        return (f"template '{exc.name}' not found in the --templates folder or the bundled "
                "templates", "check the name in the {% include %}, {% import %} or {% extends %} "
                "(names are relative to the --templates folder)")
    if _raised_in_gettext(exc):
        return (f"a translation used here does not fit its message: {exc} "
                f"({type(exc).__name__})",
                "check the msgstr in the --templates folder's locale/<lang>/LC_MESSAGES/"
                "messages.po: it may use only the %(name)s placeholders of its msgid")
    if isinstance(exc, RecursionError):
        return ("the template includes or calls itself without end",
                "an {% include %}, {% extends %} or macro leads back to itself: give the "
                "recursion a condition that stops it, or remove it")
    if isinstance(exc, TemplateFileError):
        return (str(exc.message), exc.hint)
    if isinstance(exc, SecurityError):
        return (f"not allowed in a report template: {exc}",
                "templates run in a sandbox: no names starting with '_', no open() or os, no "
                "changing the data (instead of x.append(item), {% set ns.x = ns.x + [item] %} "
                "with ns = namespace(x=[])); see docs/templates.md")
    if isinstance(exc, UndefinedError):
        return (str(exc.message or exc), "check the spelling against docs/templates.md "
                "(templates are strict: every variable must exist)")
    if isinstance(exc, TemplateError):
        return (str(exc.message or exc), "see docs/templates.md")
    return (f"{exc} ({type(exc).__name__})",
            "the template failed while rendering at this line; see docs/templates.md")


def _raised_in_gettext(exc: BaseException) -> bool:
    """Whether ``exc`` comes from filling a translation's placeholders (jinja2.ext.i18n)."""
    if not isinstance(exc, (KeyError, ValueError, TypeError)):
        return False
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name in ("gettext", "ngettext", "pgettext", "npgettext") and (
                Path(code.co_filename).match("jinja2/ext.py")):
            return True
        tb = tb.tb_next
    return False


def has_user_templates(env: Environment) -> bool:
    """Whether ``env`` looks in a ``--templates`` folder before the bundled templates."""
    return len(_search_roots(env)) > 1


def _search_roots(env: Environment) -> list[str]:
    loader = env.loader
    paths = loader.searchpath if isinstance(loader, FileSystemLoader) else []
    return [os.path.normpath(p) + os.sep for p in paths]


def _template_frames(exc: BaseException, roots: Sequence[str]) -> list[tuple[str, int]]:
    """The template files and lines of the traceback, outermost first."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(tuple(roots)):
            frames.append((filename, tb.tb_lineno))
        tb = tb.tb_next
    return frames
