"""Numbers and dates as the families read them: the framework's region (es-US: 2.41, with
the decimal point US schools write) unless --lang names another region."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel import Locale
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.reports.i18n import format_fixed, format_number, with_region
from tests.test_report_render import DATA


@pytest.mark.parametrize(("lang", "region", "expected"), [
    ("es", "US", "es_US"), ("es", None, "es"), ("es-MX", "US", "es_MX"), ("en", "US", "en_US"),
    ("es", "ZZ", "es"),  # a region Babel has no Spanish for: the language alone
])
def test_region_applies_when_lang_names_none(lang: str, region: str | None,
                                             expected: str) -> None:
    locale = Locale.parse(lang, sep="-")
    assert str(with_region(locale.language, locale, region)) == expected


def test_es_us_writes_the_decimal_point() -> None:
    es_us = Locale.parse("es_US")
    assert format_number(2.41, es_us) == "2.41"
    assert format_fixed(3.5, es_us) == "3.50"
    assert format_number(2.41, Locale.parse("es")) == "2,41"  # Spain's notation, unchanged


def _framework(tmp_path: Path, region: str | None) -> Path:
    folder = tmp_path / f"framework-{region}"
    shutil.copytree(DATA / "framework", folder)
    if region:
        main = folder / "framework.yaml"
        text = main.read_text(encoding="utf-8")
        main.write_text(text.replace("school: ", f"region: {region}\nschool: ", 1),
                        encoding="utf-8")
    return folder


@pytest.mark.parametrize(("region", "lang", "score", "html_lang"), [
    ("US", "es", "3.1", "es-US"), (None, "es", "3,1", "es"), ("US", "es-ES", "3,1", "es-ES"),
])
def test_report_card_numbers_follow_the_region(tmp_path: Path, region: str | None, lang: str,
                                               score: str, html_lang: str) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "report", "transcript", "--grades", str(DATA / "grades"), "--framework",
        str(_framework(tmp_path, region)), "--lang", lang, "--student", "0012345",
        "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    html = (out / "transcripts" / "0012345.html").read_text(encoding="utf-8")
    assert f"puntuación {score}" in html  # ALG1's course score, 3.1
    assert f'<html lang="{html_lang}"' in html
