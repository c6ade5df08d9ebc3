"""The report catalogs: complete Spanish, placeholders kept, Babel formats per locale."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from mastery_cli.diagnostics import MasteryError
from mastery_cli.reports.i18n import (
    catalog_path,
    format_long_date,
    format_number,
    load_translations,
    parse_language,
)
from mastery_cli.resources import templates_dir

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def template_messages() -> set[str | tuple[str, str]]:
    """Every message the templates use, extracted as pybabel extract does (babel.cfg)."""
    method_map = [("**.j2", "jinja2")]
    options = {"**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
    messages: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(templates_dir()), method_map=method_map, options_map=options
    ):
        messages.add(message if isinstance(message, str) else (message[0], message[1]))
    return messages


def catalog(language: str):  # type: ignore[no-untyped-def]
    with catalog_path(templates_dir(), language).open("rb") as handle:
        return read_po(handle, locale=language)


def test_templates_have_messages() -> None:
    messages = template_messages()
    assert "Progress report" in messages
    assert len(messages) > 80


@pytest.mark.parametrize("language", ["en", "es"])
def test_catalog_lists_every_template_message(language: str) -> None:
    ids = {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog(language) if m.id}
    missing = template_messages() - ids
    assert not missing, f"run pybabel extract/update; missing from {language}: {missing}"


def test_spanish_translates_every_message() -> None:
    untranslated = []
    for message in catalog("es"):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (
            message.string,)
        if message.fuzzy or not all(strings):
            untranslated.append(message.id)
    assert not untranslated, f"untranslated Spanish messages: {untranslated}"


def test_spanish_keeps_every_placeholder() -> None:
    for message in catalog("es"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (
            message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) <= wanted | set(PLACEHOLDER.findall(ids[0]))
            if len(ids) == 1:
                assert set(PLACEHOLDER.findall(text)) == wanted, message.id


def test_key_spanish_terms() -> None:
    translations = load_translations(templates_dir(), "es")
    # Words as a family in the US reads them (issue 17): a "boleta", a "escuela".
    assert translations.gettext("Progress report") == "Boleta de calificaciones"
    assert translations.gettext("On track") == "Va por buen camino"
    assert translations.gettext("Insufficient evidence") == "Evidencia insuficiente"
    assert translations.gettext("Not assessed yet") == "Todavía no evaluado"
    assert translations.gettext("Next:") == "Próximo paso:"
    assert translations.ngettext(
        "A level needs at least %(count)s score; with fewer, the report says “insufficient "
        "evidence” instead of guessing.",
        "A level needs at least %(count)s scores; with fewer, the report says “insufficient "
        "evidence” instead of guessing.", 2).startswith("Un nivel requiere al menos %(count)s "
                                                          "puntuaciones")


def test_spanish_reads_as_us_families_read_it() -> None:
    catalog_text = catalog_path(templates_dir(), "es").read_text(encoding="utf-8")
    translated = [line for line in catalog_text.splitlines() if line.startswith(("msgstr", '"'))]
    text = " ".join(translated)
    # A "decreasing average" reads as a grade going down; quotation marks as US Spanish
    # prints them; a school, not a "centro".
    assert "decreciente" not in text
    assert "«" not in text and "»" not in text
    assert "centro" not in text and "escuela" in text
    assert "Todavía no — " not in text


def test_catalogs_compile_at_load_without_mo_files() -> None:
    assert not list(Path(templates_dir()).rglob("*.mo"))
    assert load_translations(templates_dir(), "en").gettext("Level") == "Level"


def test_babel_formats_per_locale() -> None:
    _, es = parse_language("es")
    _, es_mx = parse_language("es-MX")
    _, en = parse_language("en")
    assert format_long_date(date(2026, 1, 30), es) == "30 de enero de 2026"
    assert format_long_date(date(2026, 1, 30), en) == "January 30, 2026"
    assert format_number(2.75, es) == "2,75"
    assert format_number(2.75, es_mx) == "2.75"
    assert format_number(3.0, en) == "3"


def test_unknown_language_is_a_usage_error() -> None:
    with pytest.raises(MasteryError) as caught:
        parse_language("fr")
    assert caught.value.usage
    assert "en, es" in (caught.value.diagnostics[0].hint or "")
