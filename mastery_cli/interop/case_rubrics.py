"""CASE rubrics (``CFRubrics``) on import: rubric files, target indicators and the scale.

A CASE criterion points at one item and lists levels (``quality``, ``score``, ``description``,
``feedback``, ``position``); CASE has no proficiency threshold. On import:

* **Scale.** When the package carries no scale of ours (a mastery export does) and every
  criterion that has levels uses the same numeric scores, and those are not the values of the
  default scale, the scale is built from them: scores become level values, ``quality`` the
  labels. The mastery level is the lowest whose quality (else description) *starts* with
  proficient, meets, mastery, mastered or competent ("Partially meets" does not), else the
  second-highest level — the usual place of "proficient" on a scale without a name for it.
* **Levels.** A criterion's levels, ordered by score then position, go to the scale's levels by
  score when the scores are the scale's values, else by rank when there are as many of them.
* **Indicators.** A target a criterion describes gets the levels' texts as its performance
  indicators instead of placeholders.
* **Rubric files.** Each CFRubric becomes ``rubrics/<id>.yaml`` (``kind: rubric``): design
  ``rated`` when its criteria have levels (each level's description under its scale value),
  else ``indicators``; each criterion assesses the target of its item (a folded component's
  target for a component). A criterion that assesses no target is left out with a warning
  naming its JSON pointer.

The CFRubric itself stays verbatim under the framework's ``case.rubrics``, which is what
``mastery export case`` writes back: the rubric file is the working copy for grading, and the
export does not read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mastery_cli.interop.case_ids import IdAllocator, slug, slug_of_identifier
from mastery_cli.interop.tree import Node, level_key, short_title

#: (code, message, JSON pointer, hint) -> records a warning.
Warn = Callable[[str, str, str, str | None], None]
RUBRIC_FOLDER = "rubrics"
SCALE_ID = "case-rubric"
_MASTERY_WORDS = re.compile(r"^\W*(proficien|meets\b|master|competen)", re.IGNORECASE)


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _plain(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def criterion_levels(criterion: dict[str, Any]) -> list[dict[str, Any]]:
    """The criterion's levels from lowest to highest: by score, then position, then order."""
    levels = [lv for lv in criterion.get("CFRubricCriterionLevels") or [] if isinstance(lv, dict)]

    def order(item: tuple[int, dict[str, Any]]) -> tuple[float, float, int]:
        index, level = item
        return (_number(level.get("score")) or 0.0, _number(level.get("position")) or 0.0,
                index)

    return [level for _, level in sorted(enumerate(levels), key=order)]


def _scores(levels: list[dict[str, Any]]) -> tuple[float, ...] | None:
    """The levels' scores, lowest first, when every level has its own numeric score."""
    scores = [_number(level.get("score")) for level in levels]
    if any(s is None for s in scores) or len(set(scores)) != len(scores):
        return None
    return tuple(s for s in scores if s is not None)


def _criteria(rubrics: list[Any]) -> list[tuple[int, int, dict[str, Any]]]:
    """(rubric index, criterion index, criterion) for every well-formed criterion."""
    found = []
    for r_index, rubric in enumerate(rubrics):
        if not isinstance(rubric, dict) or not isinstance(rubric.get("CFRubricCriteria"), list):
            continue
        for c_index, criterion in enumerate(rubric["CFRubricCriteria"]):
            if isinstance(criterion, dict):
                found.append((r_index, c_index, criterion))
    return found


def scale_from_rubrics(rubrics: list[Any], default_values: list[float]
                       ) -> dict[str, Any] | None:
    """A scale built from the rubrics' level scores when they all agree and differ from ours."""
    agreed: tuple[float, ...] | None = None
    first: list[dict[str, Any]] = []
    for _, _, criterion in _criteria(rubrics):
        levels = criterion_levels(criterion)
        if not levels:
            continue
        scores = _scores(levels)
        if scores is None or len(scores) < 2 or (agreed is not None and scores != agreed):
            return None
        if agreed is None:
            agreed, first = scores, levels
    if agreed is None or list(agreed) == sorted(default_values):
        return None
    labels = [_text(level.get("quality")) or f"Level {level_key(score)}"
              for score, level in zip(agreed, first, strict=True)]
    mastery = next((n for n, label in enumerate(labels) if _MASTERY_WORDS.match(label)), None)
    why = "its quality label names proficiency"
    if mastery is None:
        mastery = next((n for n, level in enumerate(first)
                        if _MASTERY_WORDS.match(_text(level.get("description")) or "")), None)
        why = "its description names proficiency"
    if mastery is None:
        mastery = len(agreed) - 2
        why = "no level is named proficient, so the second-highest is taken"
    return {
        "id": SCALE_ID,
        "title": "Rubric levels",
        "description": "Built on import from the levels of the package's CFRubrics (scores are "
        f"the values, qualities the labels). Mastery is '{labels[mastery]}': {why}.",
        "levels": [
            {"value": _plain(score), "label": label, **({"mastery": True} if n == mastery else {})}
            for n, (score, label) in enumerate(zip(agreed, labels, strict=True))
        ],
    }


@dataclass
class _Mapped:
    """One criterion, resolved: the item it points at, the target it assesses, its levels."""

    r_index: int
    c_index: int
    raw: dict[str, Any]
    item: Node | None
    target: Node | None
    #: (scale value, level) from lowest to highest; empty when the levels do not fit the scale.
    levels: list[tuple[float, dict[str, Any]]]

    @property
    def pointer(self) -> str:
        return f"/CFRubrics/{self.r_index}/CFRubricCriteria/{self.c_index}"


def _level_text(level: dict[str, Any]) -> str | None:
    return _text(level.get("description")) or _text(level.get("quality")) or _text(
        level.get("feedback"))


def _owning_target(node: Node) -> Node | None:
    above: Node | None = node
    while above is not None and above.role != "target":
        above = above.parent
    return above


class RubricImport:
    """Resolves every criterion once; then gives indicators and rubric files from that."""

    def __init__(self, rubrics: list[Any], nodes: dict[str, Node], aliases: dict[str, str],
                 scale: dict[str, Any], warn: Warn):
        self.rubrics = rubrics
        self.scale = scale
        self.warn = warn
        values = [float(level["value"]) for level in scale["levels"]]
        self.mapped = [self._resolve(r, c, raw, nodes, aliases, values)
                       for r, c, raw in _criteria(rubrics)]

    def _resolve(self, r_index: int, c_index: int, raw: dict[str, Any], nodes: dict[str, Node],
                 aliases: dict[str, str], values: list[float]) -> _Mapped:
        mapped = _Mapped(r_index, c_index, raw, None, None, [])
        link = raw.get("CFItemURI")
        linked = _text(link.get("identifier")) if isinstance(link, dict) else _text(link)
        if linked is None:
            self.warn("case-rubric-criterion-unlinked",
                      f"criterion {mapped.pointer} names no item (no CFItemURI), so it "
                      "assesses no target; it is kept under case.rubrics but left out of the "
                      "rubric file",
                      mapped.pointer, None)
        else:
            mapped.item = nodes.get(aliases.get(linked, linked))
            if mapped.item is None:
                self.warn("case-rubric-unknown-item",
                          f"criterion {mapped.pointer} points at '{linked}', which is not an "
                          "item of this "
                          "package; it is kept under case.rubrics but left out of the rubric "
                          "file", f"{mapped.pointer}/CFItemURI", None)
            else:
                mapped.target = _owning_target(mapped.item)
                if mapped.target is None:
                    self.warn("case-rubric-criterion-not-target",
                              f"criterion {mapped.pointer} points at the {mapped.item.role} "
                              f"'{mapped.item.id or mapped.item.code or mapped.item.key}', not "
                              "at a learning target; it is kept under case.rubrics but left "
                              "out of the rubric file", f"{mapped.pointer}/CFItemURI",
                              "a rubric criterion assesses one target: point it at one")
        levels = criterion_levels(raw)
        if not levels:
            return mapped
        scores = _scores(levels)
        if scores is not None and sorted(scores) == sorted(values):
            mapped.levels = [(score, level) for score, level in zip(scores, levels, strict=True)]
        elif len(levels) == len(values):
            mapped.levels = list(zip(sorted(values), levels, strict=True))
        else:
            self.warn("case-rubric-levels",
                      f"criterion {mapped.pointer} has {len(levels)} levels but scale "
                      f"'{self.scale['id']}' has "
                      f"{len(values)}; its levels are not used (the target keeps its "
                      "indicators)", f"{mapped.pointer}/CFRubricCriterionLevels", None)
            return mapped
        if any(_level_text(level) is None for _, level in mapped.levels):
            self.warn("case-rubric-levels",
                      f"a level of criterion {mapped.pointer} has no description, quality or "
                      "feedback; its levels are not used",
                      f"{mapped.pointer}/CFRubricCriterionLevels", None)
            mapped.levels = []
        return mapped

    def apply_indicators(self) -> int:
        """Indicators for targets a criterion describes directly; returns how many got them."""
        used = 0
        for mapped in self.mapped:
            node = mapped.item
            if (node is None or node.role != "target" or not mapped.levels
                    or node.restored.get("indicators")):
                continue
            node.restored["indicators"] = {
                level_key(value): str(_level_text(level)) for value, level in mapped.levels}
            used += 1
        return used

    def files(self, framework_id: str, allocator: IdAllocator) -> list[tuple[str, dict[str, Any]]]:
        """One ``rubrics/<id>.yaml`` per CFRubric that has a criterion assessing a target."""
        result = []
        for r_index, rubric in enumerate(self.rubrics):
            if not isinstance(rubric, dict):
                continue
            mine = [m for m in self.mapped if m.r_index == r_index and m.target is not None]
            rated = any(m.levels for m in mine)
            criteria = []
            ids = IdAllocator()
            for mapped in mine:
                if rated and not mapped.levels:
                    self.warn("case-rubric-criterion-skipped",
                              f"criterion {mapped.pointer} has no levels that fit the scale "
                              "while the other "
                              "criteria of its rubric are rated; left out of the rubric file",
                              mapped.pointer, None)
                    continue
                criteria.append(self._criterion(mapped, rated, ids))
            pointer = f"/CFRubrics/{r_index}"
            if not criteria:
                self.warn("case-rubric-empty",
                          f"no criterion of rubric {pointer} assesses a target, so no rubric "
                          "file is "
                          "written; the CFRubric is kept under case.rubrics", pointer, None)
                continue
            title = _text(rubric.get("title"))
            description = _text(rubric.get("description"))
            wanted = slug(title or "") or slug_of_identifier(
                _text(rubric.get("identifier")) or "").lower()
            rubric_id = allocator.claim(wanted, f"rubric-{r_index + 1}")
            data: dict[str, Any] = {
                "kind": "rubric", "schema_version": 1, "id": rubric_id,
                "title": title or (short_title(description) if description else
                                   f"Rubric {r_index + 1}"),
            }
            if title and description:
                data["description"] = description
            data["framework"] = framework_id
            data["design"] = "rated" if rated else "indicators"
            data["scale"] = self.scale["id"]
            data["criteria"] = criteria
            result.append((f"{RUBRIC_FOLDER}/{rubric_id}.yaml", data))
        return result

    def _criterion(self, mapped: _Mapped, rated: bool, ids: IdAllocator) -> dict[str, Any]:
        assert mapped.target is not None
        raw = mapped.raw
        criterion: dict[str, Any] = {"id": ids.claim(mapped.target.id, "criterion")}
        title = _text(raw.get("category")) or _text(raw.get("description"))
        if title:
            criterion["title"] = title
        criterion["target"] = mapped.target.id
        weight = _number(raw.get("weight"))
        if weight is not None and weight > 0:
            criterion["weight"] = _plain(weight)
        if rated:
            levels = []
            for value, level in mapped.levels:
                entry: dict[str, Any] = {"value": _plain(value)}
                quality = _text(level.get("quality"))
                if quality:
                    entry["label"] = quality
                entry["description"] = _level_text(level)
                levels.append(entry)
            criterion["levels"] = levels
        return criterion
