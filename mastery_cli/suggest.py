"""The one "did you mean …?" of mastery: the known name closest to a mistyped one.

Ids in frameworks are dotted families (``ELA.WR.2``, ``ELA.RD.3``): a typo in the last part
(``ELA.WR.3``) is as similar, letter for letter, to a sibling in another family as to one in
its own. The author almost always mistyped inside the family they were writing, so candidates
that share more leading parts with the value win before similarity is compared.

No imports beyond the standard library: schema diagnostics use this on the start-up path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

#: Similarity (difflib ratio) below which a candidate is not worth suggesting.
CUTOFF = 0.6

_SEPARATORS = re.compile(r"[.\-_/:]")


def _shared_parts(value: list[str], option: str) -> int:
    """How many leading dotted parts ``option`` shares with ``value`` (case-insensitively)."""
    count = 0
    for mine, theirs in zip(value, _SEPARATORS.split(option.casefold()), strict=False):
        if mine != theirs:
            break
        count += 1
    return count


def closest(value: str, candidates: Iterable[str], n: int = 1,
            cutoff: float = CUTOFF) -> list[str]:
    """Up to ``n`` candidates close to ``value``, best first.

    The same spelling in another case wins; then, among candidates at least ``cutoff``
    similar, the one sharing the most leading id parts (``ELA.WR.3`` → ``ELA.WR.2``, not
    ``ELA.RD.3``), then the most similar; ties go to the alphabetically first candidate so the
    hint does not depend on the order of definition.
    """
    options = sorted({str(c) for c in candidates})
    folded = [c for c in options if c.casefold() == value.casefold()]
    parts = _SEPARATORS.split(value.casefold())
    scored: list[tuple[int, float, str]] = []
    matcher = difflib.SequenceMatcher(b=value)
    for option in options:
        if option in folded:
            continue
        matcher.set_seq1(option)
        if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
            continue
        score = matcher.ratio()
        if score >= cutoff:
            scored.append((_shared_parts(parts, option), score, option))
    scored.sort(key=lambda item: (-item[0], -item[1], item[2]))
    return [*folded, *(option for _, _, option in scored)][:n]


def did_you_mean(value: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the candidate closest to ``value``, if one is close enough."""
    best = closest(value, candidates)
    return f"did you mean '{best[0]}'?" if best else None
