"""A learner record as plain data, built from a YAML file's (or CSV rows') loaded value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

ARENAS = ("academic", "social-emotional/physical", "college/career")
PROFILE_LISTS = ("languages", "interests", "strengths", "supports")


@dataclass(frozen=True)
class Entry:
    """A line of the profile as written, with the day it was written when given."""

    text: str
    date: date | None = None


@dataclass(frozen=True)
class Review:
    date: date | None
    by: str
    note: str = ""


@dataclass
class Goal:
    id: str
    arena: str
    statement: str
    targets: list[str] = field(default_factory=list)
    competencies: list[str] = field(default_factory=list)
    set_on: date | None = None
    target_date: date | None = None
    reviews: list[Review] = field(default_factory=list)
    #: Where the goal sits in its file (its index in plan.goals), for diagnostics.
    index: int = 0

    @property
    def academic(self) -> bool:
        return self.arena == "academic"


@dataclass(frozen=True)
class Piece:
    """A portfolio piece: work that showed mastery, with where it is and what it showed."""

    title: str
    artifact: str = ""
    targets: tuple[str, ...] = ()
    date: date | None = None
    source: str = "school"
    description: str = ""


@dataclass
class Learner:
    student_id: str
    path: str
    name: str = ""
    framework: str | None = None
    preferred_name: str = ""
    in_my_words: str = ""
    profile: dict[str, list[Entry]] = field(default_factory=dict)
    goals: list[Goal] = field(default_factory=list)
    portfolio: list[Piece] = field(default_factory=list)


def parse_date(value: Any) -> date | None:
    """A YYYY-MM-DD day (YAML may have loaded it as a date already); None when it is not one."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _ids(value: Any) -> list[str]:
    return [str(v) for v in value if isinstance(v, str | int)] if isinstance(value, list) else []


def _entry(value: Any) -> Entry | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return Entry(str(value))
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return Entry(value["text"], parse_date(value.get("date")))
    return None


def _goal(value: dict[str, Any], index: int) -> Goal:
    reviews = [Review(parse_date(r.get("date")), _text(r.get("by")), _text(r.get("note")))
               for r in value.get("reviews") or [] if isinstance(r, dict)]
    return Goal(
        id=_text(value.get("id")), arena=_text(value.get("arena")),
        statement=_text(value.get("statement")), targets=_ids(value.get("targets")),
        competencies=_ids(value.get("competencies")), set_on=parse_date(value.get("set_on")),
        target_date=parse_date(value.get("target_date")), reviews=reviews, index=index,
    )


def _piece(value: dict[str, Any]) -> Piece:
    return Piece(
        title=_text(value.get("title")), artifact=_text(value.get("artifact")),
        targets=tuple(_ids(value.get("targets"))), date=parse_date(value.get("date")),
        source=_text(value.get("source")) or "school",
        description=_text(value.get("description")),
    )


def build_learner(data: Any, path: str) -> Learner:
    """The record in ``data`` (a learner file's loaded value), tolerant of what the schema
    check already reported."""
    data = data if isinstance(data, dict) else {}
    profile_data = data.get("profile") if isinstance(data.get("profile"), dict) else {}
    plan = data.get("plan") if isinstance(data.get("plan"), dict) else {}
    profile: dict[str, list[Entry]] = {}
    for key in PROFILE_LISTS:
        entries = [_entry(v) for v in profile_data.get(key) or [] if v is not None]
        profile[key] = [e for e in entries if e is not None]
    goals = [_goal(g, i) for i, g in enumerate(plan.get("goals") or []) if isinstance(g, dict)]
    portfolio = [_piece(p) for p in data.get("portfolio") or [] if isinstance(p, dict)]
    framework = data.get("framework")
    return Learner(
        student_id=_text(data.get("student_id")), path=path, name=_text(data.get("name")),
        framework=str(framework) if isinstance(framework, str) else None,
        preferred_name=_text(profile_data.get("preferred_name")),
        in_my_words=_text(profile_data.get("in_my_words")),
        profile=profile, goals=goals, portfolio=portfolio,
    )


def goal_targets(goal: Goal, competencies: dict[str, list[str]]) -> list[str]:
    """The targets a goal covers: its own, then every target of its competencies, once each.

    ``competencies`` maps each competency id to its target ids (framework order).
    """
    found = list(goal.targets)
    for competency in goal.competencies:
        found.extend(competencies.get(competency, []))
    return list(dict.fromkeys(found))
