"""The competency framework as typed objects: what grading, reports and interchange read.

Family-facing text is kept as written (a string or a per-language map); `localize` picks a
language with a fallback. Level values are floats everywhere (a scale may use 0.5 steps); the
YAML writes per-level maps with string keys, which the builder converts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

Text = str | Mapping[str, str]


def localize(text: Text | None, lang: str, default: str = "en") -> str:
    """The text in ``lang``, else in the default language, else in any language given."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    if lang in text:
        return text[lang]
    base = lang.split("-")[0]
    if base in text:
        return text[base]
    if default in text:
        return text[default]
    return next(iter(text.values()), "")


def has_language(text: Text | None, lang: str, default: str) -> bool:
    """Whether ``text`` is really written in ``lang`` (a plain string is the default language)."""
    if text is None:
        return False
    if isinstance(text, str):
        return lang == default
    return lang in text or lang.split("-")[0] in text


def level_key(value: float) -> str:
    """The canonical text of a level value: ``3`` for 3.0, ``2.5`` for 2.5."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class Origin:
    """Where an object was defined: file and JSON pointer, for diagnostics."""

    path: str
    pointer: tuple[str | int, ...] = ()


@dataclass
class Level:
    value: float
    label: Text
    descriptor: Text | None = None
    mastery: bool = False
    short: str | None = None


@dataclass
class Scale:
    id: str
    levels: list[Level]
    title: Text | None = None
    description: Text | None = None
    origin: Origin | None = None

    @property
    def values(self) -> list[float]:
        return [level.value for level in self.levels]

    @property
    def min_value(self) -> float:
        return min(self.values)

    @property
    def max_value(self) -> float:
        return max(self.values)

    @property
    def mastery_level(self) -> Level:
        marked = [level for level in self.levels if level.mastery]
        return marked[0] if marked else self.levels[len(self.levels) // 2]

    @property
    def mastery_value(self) -> float:
        return self.mastery_level.value

    def level(self, value: float) -> Level | None:
        for level in self.levels:
            if level.value == value:
                return level
        return None

    def level_for_score(self, score: float) -> Level:
        """The highest level whose value the score reaches (below the lowest: the lowest)."""
        chosen = self.levels[0]
        for level in sorted(self.levels, key=lambda lv: lv.value):
            if score >= level.value:
                chosen = level
        return chosen


@dataclass
class Alignment:
    code: str | None = None
    uri: str | None = None
    framework: str | None = None
    relation: str = "exactMatchOf"


@dataclass
class Target:
    id: str
    statement: Text
    competency_id: str
    title: Text | None = None
    i_can: Text | None = None
    i_can_levels: dict[float, Text] = field(default_factory=dict)
    indicators: dict[float, Text] = field(default_factory=dict)
    prerequisites: list[str] = field(default_factory=list)
    alignments: list[Alignment] = field(default_factory=list)
    case: dict[str, Any] | None = None
    origin: Origin | None = None


@dataclass
class Competency:
    id: str
    title: Text
    targets: list[Target]
    statement: Text | None = None
    kind: str = "academic"
    scale_id: str | None = None
    i_can: Text | None = None
    subject: Text | None = None
    alignments: list[Alignment] = field(default_factory=list)
    case: dict[str, Any] | None = None
    origin: Origin | None = None

    @property
    def is_efficacy(self) -> bool:
        return self.kind == "efficacy"


@dataclass
class Progression:
    id: str
    targets: list[str]
    title: Text | None = None
    description: Text | None = None
    origin: Origin | None = None


@dataclass
class Course:
    id: str
    title: Text
    competencies: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    description: Text | None = None
    type: str = "course"
    credits: float | None = None
    grade_levels: list[str] = field(default_factory=list)
    origin: Origin | None = None


@dataclass
class Framework:
    """One framework, possibly assembled from several files with the same id."""

    id: str
    title: Text | None = None
    description: Text | None = None
    school: Text | None = None
    school_contact: Text | None = None
    #: The school block's url, email and id (issuer of exported credentials), when given.
    school_issuer: dict[str, str] = field(default_factory=dict)
    languages: list[str] = field(default_factory=lambda: ["en"])
    #: Where the families live (``US``): reports format numbers and dates for it.
    region: str | None = None
    namespace: str | None = None
    default_scale_id: str | None = None
    scales: dict[str, Scale] = field(default_factory=dict)
    competencies: dict[str, Competency] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    progressions: dict[str, Progression] = field(default_factory=dict)
    courses: dict[str, Course] = field(default_factory=dict)
    case: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list)

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else "en"

    @property
    def default_scale(self) -> Scale | None:
        if self.default_scale_id and self.default_scale_id in self.scales:
            return self.scales[self.default_scale_id]
        return next(iter(self.scales.values()), None)

    def scale_of(self, competency: Competency) -> Scale | None:
        if competency.scale_id:
            return self.scales.get(competency.scale_id)
        return self.default_scale

    def competency_of(self, target: Target) -> Competency:
        return self.competencies[target.competency_id]

    def target_scale(self, target: Target) -> Scale | None:
        return self.scale_of(self.competency_of(target))

    def course_targets(self, course: Course) -> list[str]:
        """Every target a course covers, whole competencies first, in framework order."""
        ids: list[str] = []
        for competency_id in course.competencies:
            competency = self.competencies.get(competency_id)
            if competency:
                ids.extend(t.id for t in competency.targets)
        ids.extend(t for t in course.targets if t in self.targets)
        return list(dict.fromkeys(ids))

    def text(self, value: Text | None, lang: str | None = None) -> str:
        return localize(value, lang or self.default_language, self.default_language)


@dataclass
class Exemplar:
    level: float
    path: str | None = None
    url: str | None = None
    note: Text | None = None


@dataclass
class RatedLevel:
    value: float
    description: Text
    label: Text | None = None


@dataclass
class Criterion:
    id: str
    target: str
    title: Text | None = None
    weight: float = 1.0
    levels: list[RatedLevel] = field(default_factory=list)
    exemplars: list[Exemplar] = field(default_factory=list)
    origin: Origin | None = None


@dataclass
class Rubric:
    id: str
    title: Text
    design: str
    criteria: list[Criterion]
    description: Text | None = None
    framework_id: str | None = None
    scale_id: str | None = None
    origin: Origin | None = None


class FamilyText(NamedTuple):
    """One text of a framework that reports show, for the translation checks.

    ``validate`` warns at the value (``origin`` plus ``pointer``; an origin of None is the
    framework's metadata, found in whichever file gives that key) and ``report`` names it by
    ``owner`` and ``name``; both walk this one list and ask ``missing_languages``, so that they
    always agree.

    ``named`` marks the names and "I can" statements that report cards and "I can" sheets put
    in front of families (titles, level labels, ``i_can``): in a framework that declares several
    languages a plain string there is a missing translation. Elsewhere (statements, indicators,
    descriptions, the school's name) a plain string is deliberate one-language text, such as the
    teacher-facing indicators of the example school; a per-language map is always expected to
    give every language. A name that is just the id or the level's number (what the builder
    fills in when there is none) reads the same in every language and is left out.
    """

    owner: str
    name: str
    text: Text | None
    origin: Origin | None
    pointer: tuple[str | int, ...]
    named: bool = False

    def missing_languages(self, languages: Iterable[str], default: str) -> list[str]:
        """Which of ``languages`` this text is not written in (and should be)."""
        if self.text is None or (isinstance(self.text, str) and not self.named):
            return []
        return [lang for lang in languages if not has_language(self.text, lang, default)]


def family_texts(framework: Framework) -> Iterator[FamilyText]:
    """Every text of ``framework`` that reports show, in framework order."""
    for key in ("title", "description", "school", "school_contact"):
        yield FamilyText("framework", key, getattr(framework, key), None, (key,),
                         named=key == "title")
    for scale in framework.scales.values():
        owner = f"scale {scale.id}"
        yield FamilyText(owner, "title", scale.title, scale.origin, ("title",), named=True)
        yield FamilyText(owner, "description", scale.description, scale.origin, ("description",))
        for index, level in enumerate(scale.levels):
            level_owner = f"{owner} level {level_key(level.value)}"
            label = None if level.label == f"{level.value:g}" else level.label
            yield FamilyText(level_owner, "label", label, scale.origin,
                             ("levels", index, "label"), named=True)
            yield FamilyText(level_owner, "descriptor", level.descriptor, scale.origin,
                             ("levels", index, "descriptor"))
    for competency in framework.competencies.values():
        title = None if competency.title == competency.id else competency.title
        yield FamilyText(competency.id, "title", title, competency.origin, ("title",), True)
        for key in ("statement", "i_can"):
            yield FamilyText(competency.id, key, getattr(competency, key), competency.origin,
                             (key,), named=key == "i_can")
        for target in competency.targets:
            ident, origin = target.id, target.origin
            yield FamilyText(ident, "title", target.title, origin, ("title",), True)
            yield FamilyText(ident, "statement", target.statement, origin, ("statement",))
            yield FamilyText(ident, "i_can", target.i_can, origin, ("i_can",), True)
            for value, text in sorted(target.indicators.items()):
                key = level_key(value)
                yield FamilyText(ident, "indicator " + key, text, origin, ("indicators", key))
            for value, text in sorted(target.i_can_levels.items()):
                key = level_key(value)
                yield FamilyText(ident, "i_can " + key, text, origin, ("i_can_levels", key), True)
    for course in framework.courses.values():
        title = None if course.title == course.id else course.title
        yield FamilyText(course.id, "title", title, course.origin, ("title",), True)
        yield FamilyText(course.id, "description", course.description, course.origin,
                         ("description",))
    for progression in framework.progressions.values():
        yield FamilyText(progression.id, "title", progression.title, progression.origin,
                         ("title",), named=True)
        yield FamilyText(progression.id, "description", progression.description,
                         progression.origin, ("description",))
