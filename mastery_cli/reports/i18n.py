"""Report languages: gettext catalogs compiled at load, and Babel formatting for the locale.

The catalogs are ``templates/locale/<lang>/LC_MESSAGES/messages.po``. They are read with Babel
and compiled to a gettext catalogue in memory when first needed, so a wheel needs no build step
and cannot ship stale ``.mo`` files. English needs no translation (the messages are English); an
English catalog may still override wording.
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from mastery_cli.diagnostics import MasteryError, error

#: Languages with a shipped catalog; a region may be added (``es-MX``, ``en-GB``) for formats.
LANGUAGES = ("en", "es")


def parse_language(value: str) -> tuple[str, Locale]:
    """``es-MX`` -> (``es``, Locale es_MX): the catalog language and the formatting locale."""
    tag = value.strip().replace("_", "-")
    base = tag.split("-")[0].lower()
    if base not in LANGUAGES:
        raise MasteryError(error(
            "unknown-language", f"no report translations for language '{value}'", "--lang",
            hint="choose one of: " + ", ".join(LANGUAGES) + " (a region such as es-MX is allowed)",
        ), usage=True)
    try:
        locale = Locale.parse(tag, sep="-")
    except (ValueError, UnknownLocaleError):
        raise MasteryError(error(
            "unknown-language", f"'{value}' is not a language tag Babel knows", "--lang",
            hint="use a tag such as en, en-GB, es or es-MX",
        ), usage=True) from None
    return base, locale


def catalog_path(templates_dir: Path, language: str) -> Path:
    return templates_dir / "locale" / language / "LC_MESSAGES" / "messages.po"


@cache
def load_translations(templates_dir: Path, language: str) -> NullTranslations:
    """The gettext translations for ``language`` from the catalog under ``templates_dir``."""
    path = catalog_path(templates_dir, language)
    if not path.is_file():
        if language == "en":
            return NullTranslations()
        compiled_only = path.with_suffix(".mo").is_file()
        raise MasteryError(error(
            "missing-catalog", f"no translation catalog for '{language}'", str(path),
            hint="mastery reads messages.po, not the compiled messages.mo: put the .po file "
                 "beside it" if compiled_only else
                 "reinstall mastery-cli, or add the catalog to your --templates folder",
        ))
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language, abort_invalid=True)
        for message, problems in catalog.check():  # placeholders msgstr and msgid disagree on
            if problems:
                msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
                raise _broken_catalog(
                    path, f"the translation of {msgid!r}: {problems[0]}", message.lineno)
        compiled = io.BytesIO()
        write_mo(compiled, catalog, use_fuzzy=False)
        compiled.seek(0)
        return Translations(fp=compiled, domain="messages")
    except PoFileError as exc:  # its message ends "on <line counted from 0>"
        problem = re.sub(r" on \d+$", "", str(exc))
        raise _broken_catalog(path, problem, exc.lineno + 1) from None
    except UnicodeDecodeError as exc:
        raise _broken_catalog(path, f"not {exc.encoding} text ({exc.reason})",
                              _first_undecodable_line(path, exc.encoding)) from None
    except LookupError as exc:  # an unknown charset in the header
        raise _broken_catalog(path, str(exc), _line_with(path, b"charset=")) from None
    except (ValueError, SyntaxError) as exc:  # a Plural-Forms expression gettext refuses
        raise _broken_catalog(path, str(exc), _line_with(path, b"Plural-Forms:")) from None
    except OSError as exc:
        raise _broken_catalog(path, str(exc), None) from None


def _line_with(path: Path, text: bytes) -> int | None:
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if text in line:
            return number
    return None


def _first_undecodable_line(path: Path, encoding: str) -> int | None:
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            line.decode(encoding)
        except UnicodeDecodeError:
            return number
    return None


def _broken_catalog(path: Path, problem: str, line: int | None) -> MasteryError:
    return MasteryError(error(
        "template-error", f"broken translation catalog: {problem}", str(path), line,
        hint="check the .po file with 'msgfmt --check' (or 'pybabel compile'); see "
             "docs/templates.md",
    ))


def format_long_date(value: date, locale: Locale) -> str:
    """``12 September 2025`` / ``12 de septiembre de 2025``, as the locale writes it."""
    return format_date(value, format="long", locale=locale)


def format_short_date(value: date, locale: Locale) -> str:
    return format_date(value, format="medium", locale=locale)


def format_number(value: float, locale: Locale, *, places: int = 2) -> str:
    """A score with up to ``places`` decimals, in the locale's notation (``2.75`` / ``2,75``)."""
    pattern = "0" if places == 0 else "0." + "#" * places
    return format_decimal(value, format=pattern, locale=locale)


def format_fixed(value: float | Decimal, locale: Locale, *, places: int = 2) -> str:
    """A figure always shown with ``places`` decimals, such as a GPA (``3.50`` / ``3,50``).
    ``value`` is already rounded (half up) to them; Babel only writes it."""
    pattern = "0" if places == 0 else "0." + "0" * places
    return format_decimal(value, format=pattern, locale=locale,
                          decimal_quantization=False)


def with_region(language: str, locale: Locale, region: str | None) -> Locale:
    """The formatting locale for a report: ``locale`` when ``--lang`` named a region (es-MX),
    else the language in the framework's ``region`` (es + US: es_US, so 2.41 with a decimal
    point as US families read it), else the language alone."""
    if not region or locale.territory:
        return locale
    try:
        regional = Locale.parse(f"{language}_{region}")
    except (ValueError, UnknownLocaleError):
        return locale
    # Babel answers an unknown region with a likely one (es_ZZ: es_ES); keep the language.
    return regional if regional.territory == region else locale
