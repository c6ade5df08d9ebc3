"""Whether a language code is an ISO 639 code, and which one a mistyped code meant.

Babel's CLDR data is the reference (the reports format dates and numbers with it). Importing
Babel costs ~80 ms, more than validating a small file, so the common case, a code with its own
CLDR locale file (``en``, ``es``, ``no``), is answered by looking for that file; only another
code loads Babel's list of every language CLDR names (~670, ISO 639-1 complete).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

#: ``es`` or ``es-MX``: the schema's form of a language code (BCP 47, primary subtag first).
CODE_FORM = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def primary(code: str) -> str:
    """The language part of a BCP 47 code: ``es`` of ``es-MX``."""
    return code.split("-")[0]


@cache
def _locale_data_folder() -> Path | None:
    spec = importlib.util.find_spec("babel")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "locale-data"
    return folder if folder.is_dir() else None


@cache
def _language_names() -> dict[str, str]:
    from babel import Locale

    return {code: name for code, name in Locale("en").languages.items() if "_" not in code}


def is_known(code: str) -> bool:
    """Whether the language of ``code`` is one CLDR knows (``sp`` is not; ``es-MX`` is)."""
    language = primary(code)
    folder = _locale_data_folder()
    if folder is not None and (folder / f"{language}.dat").is_file():
        return True
    return language in _language_names()


def name_of(code: str) -> str:
    return _language_names().get(primary(code), code)


def suggest(code: str, used: Iterable[str] = ()) -> str | None:
    """The known language a mistyped ``code`` most likely meant.

    First a language the framework's texts are written in but that is not declared (the
    author wrote ``es:`` everywhere and ``sp`` in 'languages'); then the language of the
    country whose code was written (``jp`` → ``ja``); then the one language whose English name
    starts with it (``sp`` → Spanish ``es``).
    """
    from babel.languages import get_official_languages

    language = primary(code).casefold()
    names = _language_names()
    written = sorted({primary(u) for u in used if primary(u) in names})
    by_name = sorted(c for c in names if len(c) == 2 and names[c].casefold().startswith(language))
    by_country = [primary(c) for c in get_official_languages(language.upper())]
    for pool in (by_name, by_country):
        chosen = [c for c in pool if c in written]
        if chosen:
            return chosen[0]
    if len(written) == 1:
        return written[0]
    if by_country:
        return by_country[0]
    return by_name[0] if len(by_name) == 1 else None
