"""The bank of benchmarked work: for each target and level, the exemplars the rubrics peg there.

`exemplar_bank` is what `mastery report exemplars` renders, and what the "I can" sheet and the
calibration report look exemplars up in. Images become inline thumbnails (data: URLs, so the
document stays self-contained and its PDF shows them); other files are linked.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mastery_cli.framework.model import Exemplar, Framework, Rubric, Text, level_key
from mastery_cli.rubrics.levels import (
    criteria_of,
    exemplar_location,
    exemplars_by_level,
    level_language,
)

#: Images larger than this are linked, not inlined.
THUMBNAIL_LIMIT = 2_000_000
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


@dataclass(frozen=True)
class ShownExemplar:
    """One exemplar as a document shows it."""

    rubric: str
    note: str
    href: str
    name: str
    thumbnail: str | None = None  # a data: URL for images
    kind: str = "file"  # file, pdf, image or link


@dataclass
class BankLevel:
    value: float
    label: str
    description: str
    exemplars: list[ShownExemplar] = field(default_factory=list)

    @property
    def key(self) -> str:
        return level_key(self.value)


@dataclass
class BankTarget:
    id: str
    title: str
    rubrics: list[str]
    levels: list[BankLevel]

    @property
    def missing(self) -> list[BankLevel]:
        return [level for level in self.levels if not level.exemplars]


def _thumbnail(file: Path) -> str | None:
    kind = mimetypes.guess_type(file.name)[0]
    if kind not in IMAGE_TYPES:
        return None
    try:
        if file.stat().st_size > THUMBNAIL_LIMIT:
            return None
        data = file.read_bytes()
    except OSError:
        return None
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def shown_exemplar(framework: Framework, rubric: Rubric, exemplar: Exemplar, out: Path | None,
                   lang: str | None = None) -> ShownExemplar:
    """How a document shows ``exemplar`` (links relative to ``out`` when given)."""
    href = exemplar_location(rubric, exemplar, out)
    name = href.rstrip("/").rsplit("/", 1)[-1] or href
    thumbnail = None
    kind = "link" if exemplar.url else "file"
    if exemplar.path and rubric.origin:
        file = Path(rubric.origin.path).parent / exemplar.path
        thumbnail = _thumbnail(file)
        if thumbnail:
            kind = "image"
        elif file.suffix.lower() == ".pdf":
            kind = "pdf"
    return ShownExemplar(framework.text(rubric.title, lang), framework.text(exemplar.note, lang),
                         href, name, thumbnail, kind)


def exemplar_bank(framework: Framework, rubrics: Sequence[Rubric], out: Path | None = None,
                  lang: str | None = None) -> list[BankTarget]:
    """Every target a rubric scores, in framework order, with each scale level's exemplars."""
    scored = {c.target for r in rubrics for c in r.criteria if c.target in framework.targets}
    bank = []
    for target_id, target in framework.targets.items():
        if target_id not in scored:
            continue
        scale = framework.target_scale(target)
        by_level = exemplars_by_level(rubrics, target_id)
        levels = []
        for value in (scale.values if scale else sorted(by_level)):
            text = level_language(framework, rubrics, target_id, value)
            levels.append(BankLevel(
                value, framework.text(text.label, lang) or level_key(value),
                framework.text(text.description, lang),
                [shown_exemplar(framework, rubric, ex, out, lang)
                 for rubric, ex in by_level.get(value, [])],
            ))
        bank.append(BankTarget(
            target_id, framework.text(target.title or target.statement, lang),
            list(dict.fromkeys(framework.text(r.title, lang)
                               for r, _ in criteria_of(rubrics, target_id))),
            levels,
        ))
    return bank


def unscored_targets(framework: Framework, rubrics: Sequence[Rubric]) -> list[tuple[str, Text]]:
    """Targets no rubric scores (so no exemplar can be pegged to them yet)."""
    scored = {c.target for r in rubrics for c in r.criteria}
    return [(t.id, t.title or t.statement) for t in framework.targets.values()
            if t.id not in scored]


def exemplar_index(framework: Framework, rubrics: Sequence[Rubric], lang: str | None = None
                   ) -> dict[str, dict[float, list[ShownExemplar]]]:
    """Target id -> level -> its exemplars, for documents that show them next to a level
    ("I can" sheets). Files are named, images inlined, URLs linked."""
    return {target.id: {level.value: level.exemplars for level in target.levels
                        if level.exemplars}
            for target in exemplar_bank(framework, rubrics, None, lang)}
