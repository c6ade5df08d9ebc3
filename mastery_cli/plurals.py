"""Counted nouns in English messages: "1 course grade", "2 course grades", "0 of 1 target".

gettext's ``ngettext`` chooses the form (English today; a translated catalog could be installed
later without touching the callers).
"""

from __future__ import annotations

from gettext import ngettext


def counted(count: int, singular: str, plural: str) -> str:
    """``count`` and the noun in the form that agrees with it."""
    return f"{count} {ngettext(singular, plural, count)}"


def noun(count: int, singular: str, plural: str) -> str:
    """The noun alone, agreeing with ``count`` ("0 of 1 target", "2 of 3 targets")."""
    return ngettext(singular, plural, count)
