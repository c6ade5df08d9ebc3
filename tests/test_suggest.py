"""The one did-you-mean: same id family first, then similarity, then alphabetical order."""

from __future__ import annotations

import difflib

from hypothesis import given
from hypothesis import strategies as st

from mastery_cli.suggest import closest, did_you_mean


def test_a_typo_in_the_last_part_stays_in_its_family() -> None:
    # Letter for letter ELA.RD.3 is as close as ELA.WR.2 (and sorts first).
    assert did_you_mean("ELA.WR.3", ["ELA.RD.3", "ELA.WR.2"]) == "did you mean 'ELA.WR.2'?"
    assert did_you_mean("MATH.NQ.4", ["MATH.AL.4", "MATH.NQ.1", "SCI.NQ.4"]) == (
        "did you mean 'MATH.NQ.1'?")


def test_a_typo_in_the_family_still_finds_the_most_similar() -> None:
    assert closest("ELA.WT.3", ["ELA.RD.3", "ELA.WR.3"]) == ["ELA.WR.3"]


def test_the_same_spelling_in_another_case_wins() -> None:
    assert closest("ela.wr.2", ["ELA.WR.2", "ela.wr.3"]) == ["ELA.WR.2"]


def test_nothing_close_gives_no_hint() -> None:
    assert did_you_mean("competences", ["scales"]) is None
    assert closest("x", []) == []


def test_several_suggestions_best_first() -> None:
    assert closest("ELA.WR.3", ["ELA.RD.3", "ELA.WR.2", "ELA.WR.4"], n=3) == [
        "ELA.WR.2", "ELA.WR.4", "ELA.RD.3"]


def test_plain_words_as_before() -> None:
    assert closest("competences", ["competencies", "courses", "scales"]) == ["competencies"]
    assert closest("titel", ["title", "statement"]) == ["title"]


words = st.text(alphabet="abc.", min_size=1, max_size=8)


@given(words, st.lists(words, max_size=6))
def test_suggests_only_what_difflib_finds_close(value: str, options: list[str]) -> None:
    """Whatever is suggested is a candidate difflib also rates close enough (or the same word)."""
    for option in closest(value, options, n=3):
        assert option in options
        assert option.casefold() == value.casefold() or difflib.SequenceMatcher(
            a=option, b=value).ratio() >= 0.6
    assert closest(value, options) == closest(value, list(reversed(options)))
