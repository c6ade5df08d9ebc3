"""Assemble typed frameworks and rubrics from loaded documents.

The builder is deliberately forgiving: it also runs on files that failed the schema, so that one
broken file does not turn every reference into it into a second, misleading error. Anything
malformed is skipped here (the schema check has already reported it); only problems that need
the whole picture (an id defined twice, metadata that disagrees between files) are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mastery_cli.diagnostics import Diagnostic
from mastery_cli.documents import DocumentSet, MasteryDocument
from mastery_cli.framework.model import (
    Alignment,
    Competency,
    Course,
    Criterion,
    Exemplar,
    Framework,
    Level,
    Origin,
    Progression,
    RatedLevel,
    Rubric,
    Scale,
    Target,
    Text,
)

_METADATA = ("title", "description", "school", "school_contact", "languages", "region",
             "namespace", "default_scale", "case")


def _text(value: Any) -> Text | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _ids(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if isinstance(v, str | int | float) and not isinstance(v, bool)]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _per_level(value: Any) -> dict[float, Text]:
    result: dict[float, Text] = {}
    if isinstance(value, dict):
        for key, text in value.items():
            number = _number(key)
            converted = _text(text)
            if number is not None and converted is not None:
                result[number] = converted
    return result


def _alignments(value: Any) -> list[Alignment]:
    result = []
    for item in _list(value):
        if isinstance(item, dict) and (item.get("code") or item.get("uri")):
            result.append(Alignment(
                code=str(item["code"]) if item.get("code") is not None else None,
                uri=str(item["uri"]) if item.get("uri") is not None else None,
                framework=str(item["framework"]) if item.get("framework") else None,
                relation=str(item.get("relation") or "exactMatchOf"),
            ))
    return result


def _case(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, dict) else None


def _scale(item: dict[str, Any], origin: Origin) -> Scale | None:
    levels = []
    for raw in _list(item.get("levels")):
        if not isinstance(raw, dict):
            continue
        value = _number(raw.get("value"))
        if value is None:
            continue
        levels.append(Level(
            value=value,
            label=_text(raw.get("label")) or f"{value:g}",
            descriptor=_text(raw.get("descriptor")),
            mastery=raw.get("mastery") is True,
            short=str(raw["short"]) if isinstance(raw.get("short"), str) else None,
        ))
    if not levels:
        return None
    return Scale(id=str(item["id"]), levels=levels, title=_text(item.get("title")),
                 description=_text(item.get("description")), origin=origin)


class _Registry:
    """Ids seen so far in one namespace, to report the second definition of any id."""

    def __init__(self, what: str, sets: DocumentSet, diagnostics: list[Diagnostic]):
        self.what = what
        self.sets = sets
        self.diagnostics = diagnostics
        self.first: dict[str, Origin] = {}

    def claim(self, ident: str, origin: Origin) -> bool:
        if ident in self.first:
            first = self.first[ident]
            line = self.sets.at(first, "x", "", ("id",)).line
            where = f"{first.path}:{line}" if line else first.path
            self.diagnostics.append(self.sets.at(
                origin, "duplicate-id", f"{self.what} id '{ident}' is already defined at {where}",
                ("id",), hint="ids must be unique across all files of the framework",
            ))
            return False
        self.first[ident] = origin
        return True


def build_frameworks(
    sets: DocumentSet, documents: Sequence[MasteryDocument] | None = None
) -> tuple[dict[str, Framework], list[Diagnostic]]:
    """Frameworks by id, assembled from every framework document (files sharing an id merge)."""
    diagnostics: list[Diagnostic] = []
    frameworks: dict[str, Framework] = {}
    registries: dict[str, dict[str, _Registry]] = {}
    metadata_origin: dict[tuple[str, str], tuple[Any, Origin]] = {}
    docs = documents if documents is not None else sets.of_kind("framework")
    for document in docs:
        data = document.data
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            continue
        framework = frameworks.setdefault(data["id"], Framework(id=data["id"], languages=[]))
        framework.files.append(document.path)
        registry = registries.setdefault(framework.id, {
            name: _Registry(name, sets, diagnostics)
            for name in ("competency or target", "scale", "progression", "course")
        })
        for key in _METADATA:
            if key not in data:
                continue
            value = data[key]
            origin = Origin(document.path, (key,))
            previous = metadata_origin.get((framework.id, key))
            if previous is not None:
                if previous[0] != value:
                    diagnostics.append(sets.at(
                        origin, "conflicting-metadata",
                        f"'{key}' differs from the value given in {previous[1].path}",
                        hint="framework metadata may be repeated across files only if identical",
                    ))
                continue
            metadata_origin[(framework.id, key)] = (value, origin)
            if key == "languages":
                framework.languages = [str(v) for v in _list(value)]
            elif key == "namespace":
                framework.namespace = str(value)
            elif key == "region":
                framework.region = str(value)
            elif key == "default_scale":
                framework.default_scale_id = str(value)
            elif key == "case":
                framework.case = _case(value)
            elif key == "school" and isinstance(value, dict) and "name" in value:
                framework.school = _text(value["name"])
                framework.school_issuer = {k: str(value[k]) for k in ("url", "email", "id")
                                           if isinstance(value.get(k), str)}
            else:
                setattr(framework, key, _text(value))
        _add_scales(framework, document, registry["scale"])
        _add_competencies(framework, document, registry["competency or target"])
        for index, item in enumerate(_list(data.get("progressions"))):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                origin = Origin(document.path, ("progressions", index))
                if registry["progression"].claim(item["id"], origin):
                    framework.progressions[item["id"]] = Progression(
                        id=item["id"], targets=_ids(item.get("targets")),
                        title=_text(item.get("title")),
                        description=_text(item.get("description")), origin=origin,
                    )
        for index, item in enumerate(_list(data.get("courses"))):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                origin = Origin(document.path, ("courses", index))
                if registry["course"].claim(item["id"], origin):
                    framework.courses[item["id"]] = Course(
                        id=item["id"], title=_text(item.get("title")) or item["id"],
                        competencies=_ids(item.get("competencies")),
                        targets=_ids(item.get("targets")),
                        description=_text(item.get("description")),
                        type=str(item.get("type") or "course"),
                        credits=_number(item.get("credits")),
                        grade_levels=_ids(item.get("grade_levels")), origin=origin,
                    )
    for framework in frameworks.values():
        if not framework.languages:
            framework.languages = ["en"]
    return frameworks, diagnostics


def _add_scales(framework: Framework, document: MasteryDocument, registry: _Registry) -> None:
    for index, item in enumerate(_list(document.data.get("scales"))):
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            origin = Origin(document.path, ("scales", index))
            scale = _scale(item, origin)
            if scale is not None and registry.claim(scale.id, origin):
                framework.scales[scale.id] = scale


def _add_competencies(
    framework: Framework, document: MasteryDocument, registry: _Registry
) -> None:
    for c_index, item in enumerate(_list(document.data.get("competencies"))):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        origin = Origin(document.path, ("competencies", c_index))
        competency = Competency(
            id=item["id"], title=_text(item.get("title")) or item["id"], targets=[],
            statement=_text(item.get("statement")),
            kind="efficacy" if item.get("kind") == "efficacy" else "academic",
            scale_id=str(item["scale"]) if isinstance(item.get("scale"), str) else None,
            i_can=_text(item.get("i_can")), subject=_text(item.get("subject")),
            alignments=_alignments(item.get("alignments")), case=_case(item.get("case")),
            origin=origin,
        )
        if not registry.claim(competency.id, origin):
            continue
        framework.competencies[competency.id] = competency
        for t_index, raw in enumerate(_list(item.get("targets"))):
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                continue
            t_origin = Origin(document.path, ("competencies", c_index, "targets", t_index))
            if not registry.claim(raw["id"], t_origin):
                continue
            target = Target(
                id=raw["id"], statement=_text(raw.get("statement")) or "",
                competency_id=competency.id, title=_text(raw.get("title")),
                i_can=_text(raw.get("i_can")), i_can_levels=_per_level(raw.get("i_can_levels")),
                indicators=_per_level(raw.get("indicators")),
                prerequisites=_ids(raw.get("prerequisites")),
                alignments=_alignments(raw.get("alignments")), case=_case(raw.get("case")),
                origin=t_origin,
            )
            competency.targets.append(target)
            framework.targets[target.id] = target


def build_rubric(document: MasteryDocument) -> Rubric | None:
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return None
    criteria = []
    for index, raw in enumerate(_list(data.get("criteria"))):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            continue
        levels = []
        for level in _list(raw.get("levels")):
            if isinstance(level, dict) and _number(level.get("value")) is not None:
                levels.append(RatedLevel(
                    value=_number(level["value"]) or 0.0,
                    description=_text(level.get("description")) or "",
                    label=_text(level.get("label")),
                ))
        exemplars = []
        for ex in _list(raw.get("exemplars")):
            if isinstance(ex, dict) and _number(ex.get("level")) is not None:
                exemplars.append(Exemplar(
                    level=_number(ex["level"]) or 0.0,
                    path=ex.get("path") if isinstance(ex.get("path"), str) else None,
                    url=ex.get("url") if isinstance(ex.get("url"), str) else None,
                    note=_text(ex.get("note")),
                ))
        criteria.append(Criterion(
            id=raw["id"], target=str(raw.get("target", "")), title=_text(raw.get("title")),
            weight=_number(raw.get("weight")) or 1.0, levels=levels, exemplars=exemplars,
            origin=Origin(document.path, ("criteria", index)),
        ))
    return Rubric(
        id=data["id"], title=_text(data.get("title")) or data["id"],
        design=str(data.get("design") or "indicators"), criteria=criteria,
        description=_text(data.get("description")),
        framework_id=str(data["framework"]) if isinstance(data.get("framework"), str) else None,
        scale_id=str(data["scale"]) if isinstance(data.get("scale"), str) else None,
        origin=Origin(document.path, ()),
    )
