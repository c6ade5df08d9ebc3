"""Language codes and translations: what validate says, and that report --lang agrees with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastery_cli.framework.model import family_texts
from mastery_cli.reports.context import missing_framework_text
from mastery_cli.validation import languages, validate_paths
from mastery_cli.yamlfile import pointer_text

CASES = Path(__file__).parent / "cases"
EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.mark.parametrize("code", ["en", "es", "es-MX", "no", "zh-Hant", "haw", "tlh", "mul"])
def test_iso_639_codes_are_known(code: str) -> None:
    assert languages.is_known(code)


@pytest.mark.parametrize("code", ["sp", "jp", "xx", "eng-US"])
def test_other_codes_are_not(code: str) -> None:
    assert not languages.is_known(code)


@pytest.mark.parametrize(("code", "written", "meant"), [
    ("sp", [], "es"),          # the one language whose name starts so: Spanish
    ("jp", [], "ja"),          # the country's language
    ("ge", ["de"], "de"),      # German, as the texts are written in de (not Georgia's ka)
    ("ge", [], "ka"),
    ("xq", ["fr"], "fr"),      # nothing else to go on: the one undeclared language written
    ("xq", [], None),
])
def test_what_a_mistyped_code_meant(code: str, written: list[str], meant: str | None) -> None:
    assert languages.suggest(code, written) == meant


def _codes(case: str) -> list[tuple[str, int | None]]:
    result = validate_paths([CASES / case])
    return [(d.code, d.line) for d in result.diagnostics]


def test_a_mistyped_language_is_one_error_without_follow_on_warnings() -> None:
    assert _codes("unknown-language") == [("unknown-language", 8)]


def test_a_mistyped_language_in_a_text_is_one_warning() -> None:
    assert _codes("unknown-language-in-text") == [("undeclared-language", 16)]


def test_report_and_validate_name_the_same_untranslated_texts() -> None:
    """report --lang es warns about exactly the texts validate shows, one warning each."""
    result = validate_paths([CASES / "plain-text-several-languages"])
    [framework] = result.frameworks.values()
    warned = [d.pointer for d in result.diagnostics if d.code == "missing-translation"]
    missing = missing_framework_text(framework, "es")
    assert missing == ["scale three level 2 label", "ELA title", "ELA.RD.1 i_can", "ENG9 title"]
    texts = {f"{t.owner} {t.name}": t for t in family_texts(framework)}
    where = [pointer_text((*texts[m].origin.pointer, *texts[m].pointer))  # type: ignore[union-attr]
             for m in missing]
    assert sorted(warned) == sorted(where)


def test_report_and_validate_agree_on_the_example_school() -> None:
    result = validate_paths([EXAMPLES])
    assert [d for d in result.diagnostics if d.code == "missing-translation"] == []
    [framework] = result.frameworks.values()
    assert missing_framework_text(framework, "es") == []


def test_known_codes_do_not_import_babel() -> None:
    """validate starts fast: the example's en and es are answered without importing Babel."""
    script = (
        "import sys; from pathlib import Path\n"
        "from mastery_cli.validation import validate_paths\n"
        f"result = validate_paths([Path({str(EXAMPLES / 'framework')!r})])\n"
        "assert not result.errors, result.errors\n"
        "assert 'babel' not in sys.modules, 'babel imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


_texts = st.one_of(
    st.none(), st.just("Plain"), st.just({"en": "E"}), st.just({"es": "S"}),
    st.just({"en": "E", "es": "S"}),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_texts, min_size=9, max_size=9))
def test_report_and_validate_agree_on_any_framework(
    tmp_path_factory: pytest.TempPathFactory, texts: list[object]
) -> None:
    """However the texts are written, validate's warnings about 'es' are report's list."""
    # Copies: st.just hands the same dict each time, and one object twice would be dumped as a
    # YAML alias (one node, so one warning where report counts two texts).
    texts = [dict(t) if isinstance(t, dict) else t for t in texts]
    (title, label, ctitle, statement, i_can, indicator, course, description, ttitle) = texts

    def put(mapping: dict[str, object], key: str, value: object) -> dict[str, object]:
        if value is not None:  # a copy: one object twice would be dumped as a YAML alias
            mapping[key] = dict(value) if isinstance(value, dict) else value
        return mapping

    levels = [put({"value": 1}, "label", label), {"value": 2, "label": "Two", "mastery": True}]
    levels[1]["label"] = {"en": "Two", "es": "Dos"}
    target = put(put(put({"id": "T.1", "statement": statement or "S"}, "i_can", i_can),
                     "title", ttitle), "indicators", {1: indicator or "x", 2: "y"})
    framework = put({
        "kind": "framework", "schema_version": 1, "id": "demo", "languages": ["en", "es"],
        "scales": [{"id": "two", "levels": levels}],
        "competencies": [put(put({"id": "C", "targets": [target]}, "title", ctitle or "C"),
                             "statement", description)],
        "courses": [put({"id": "K", "competencies": ["C"]}, "title", course or "K")],
    }, "title", title)
    folder = tmp_path_factory.mktemp("agree")
    (folder / "framework.yaml").write_text(yaml.safe_dump(framework, allow_unicode=True),
                                           encoding="utf-8")
    result = validate_paths([folder])
    [built] = result.frameworks.values()
    about_es = [d for d in result.diagnostics if d.code == "missing-translation"
                and "es" in d.message.split(" text here")[0].removeprefix("no ").split(", ")]
    assert len(about_es) == len(missing_framework_text(built, "es"))
