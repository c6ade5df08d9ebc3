"""From a foreign hierarchy (CASE items, Moodle competencies) to our competencies and targets.

Both formats describe a tree of any depth; a mastery framework has two levels: competencies and
the learning targets under them. Each node gets one role:

* ``target``: what is assessed. By default (``auto``) every node without children, so nothing is
  hidden; with ``--levels`` the nodes of the last level named;
* ``competency``: a node directly above a target;
* ``group``: a node above competencies only (a domain, a grade); kept in the framework's
  ``case.groups`` with its place in the tree;
* ``child``: a node below a target (only with ``--levels``); folded into the target's
  ``case.children`` with every field it had.

Targets directly under the document get one competency standing for the document itself,
marked ``synthetic`` so that exporting does not invent an item for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from mastery_cli.interop.case_ids import IdAllocator, slug, slug_of_identifier

ROLES = ("group", "competency", "target", "child")
TITLE_LIMIT = 100


@dataclass
class Node:
    """One item of the source hierarchy, with everything needed to place and write it."""

    key: str
    statement: str
    pointer: str
    code: str | None = None
    title: str | None = None
    item_type: str | None = None
    case: dict[str, Any] = field(default_factory=dict)
    alignments: list[dict[str, Any]] = field(default_factory=list)
    #: Fields a previous export by mastery stored in the item's extensions (id, role, i_can…).
    restored: dict[str, Any] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None
    depth: int = 1
    role: str = ""
    id: str = ""

    def walk(self) -> Iterator[Node]:
        """This node and everything under it, parents before children, in order."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def walk(roots: Sequence[Node]) -> Iterator[Node]:
    for root in roots:
        yield from root.walk()


@dataclass(frozen=True)
class LevelSpec:
    """``--levels Domain,Cluster,Standard``: item types (or depths, 1 = top) from the top down.

    The last entry names the target level; nodes below a target fold into it.
    """

    entries: tuple[str, ...]

    @classmethod
    def parse(cls, text: str | None) -> LevelSpec | None:
        if text is None or text.strip().lower() in ("", "auto"):
            return None
        entries = tuple(part.strip() for part in text.split(",") if part.strip())
        return cls(entries) if entries else None

    @staticmethod
    def matches(entry: str, node: Node) -> bool:
        if entry.isascii() and entry.isdigit():
            return len(entry) < 10 and node.depth == int(entry)
        return (node.item_type or "").casefold() == entry.casefold()

    def is_target(self, node: Node) -> bool:
        return self.matches(self.entries[-1], node)

    def unused(self, roots: Sequence[Node]) -> list[str]:
        return [e for e in self.entries if not any(self.matches(e, n) for n in walk(roots))]


def assign_roles(roots: Sequence[Node], spec: LevelSpec | None) -> None:
    """Give every node a role (see the module docstring); restored roles win."""
    for node in walk(roots):
        above = node.parent
        if above is not None and above.role in ("target", "child"):
            node.role = "child"
        elif node.restored.get("role") in ROLES:
            node.role = str(node.restored["role"])
        elif not node.children or (spec is not None and spec.is_target(node)):
            node.role = "target"
        else:
            node.role = ""  # decided below, once the children are known
    # Bottom-up: a node directly above a target is a competency, any other inner node a group.
    for node in reversed(list(walk(roots))):
        if node.role == "":
            node.role = "competency" if any(c.role == "target" for c in node.children) else "group"
        elif node.role == "competency" and not any(c.role == "target" for c in node.children):
            node.role = "group"  # a competency needs at least one target


def competency_of(node: Node) -> Node | None:
    above = node.parent
    while above is not None and above.role != "competency":
        above = above.parent
    return above


def short_title(text: str) -> str:
    """A title for tables: the text itself when short, else its start cut at a word."""
    flat = " ".join(text.split())
    if len(flat) <= TITLE_LIMIT:
        return flat
    cut = flat[: TITLE_LIMIT - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def allocate_ids(roots: Sequence[Node], allocator: IdAllocator) -> None:
    """Ids for competencies and targets, from their codes, in document order."""
    for node in walk(roots):
        if node.role in ("competency", "target"):
            wanted = str(node.restored.get("id") or node.code or "")
            node.id = allocator.claim(wanted, slug_of_identifier(node.key))


DEFAULT_SCALE: dict[str, Any] = {
    "id": "default",
    "title": "Performance levels",
    "description": "Added on import: the source defines no performance levels. 3 (Proficient) "
    "means mastered.",
    "levels": [
        {"value": 1, "label": "Beginning", "descriptor": "Beginning to meet the target with "
         "support."},
        {"value": 2, "label": "Developing", "descriptor": "Meets parts of the target; still "
         "developing."},
        {"value": 3, "label": "Proficient", "descriptor": "Meets the target independently.",
         "mastery": True},
        {"value": 4, "label": "Advanced", "descriptor": "Goes beyond the target."},
    ],
}


def level_key(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def placeholder_indicators(scale: dict[str, Any], statement: str) -> dict[str, str]:
    """One indicator per level, "<label> — <statement>", for the school to rewrite."""
    return {
        level_key(level["value"]): f"{level['label']} — {statement}"
        for level in scale["levels"]
    }


@dataclass
class Draft:
    """An imported framework before it is written: metadata, scales and the placed tree."""

    framework_id: str
    title: str
    roots: list[Node]
    scale: dict[str, Any]
    description: str | None = None
    languages: list[str] = field(default_factory=lambda: ["en"])
    namespace: str | None = None
    case: dict[str, Any] = field(default_factory=dict)
    progressions: list[dict[str, Any]] = field(default_factory=list)
    extra_scales: list[dict[str, Any]] = field(default_factory=list)
    placeholder_count: int = 0
    synthetic: dict[str, Any] | None = None

    def synthetic_competency(self, allocator: IdAllocator) -> dict[str, Any]:
        if self.synthetic is None:
            self.synthetic = {
                "id": allocator.claim(f"{self.framework_id}-general", "general"),
                "title": short_title(self.title),
                "targets": [],
                "case": {"synthetic": True},
            }
        return self.synthetic


def _record(node: Node) -> dict[str, Any]:
    """Everything about a group or folded node, for ``case.groups`` / ``case.children``."""
    record: dict[str, Any] = {}
    for key in ("identifier", "uri"):
        if key in node.case:
            record[key] = node.case[key]
    record["full_statement"] = node.statement
    if node.title is not None:
        record["abbreviated_statement"] = node.title
    for key, value in node.case.items():
        if key not in record:
            record[key] = value
    return record


def _target(node: Node, draft: Draft) -> dict[str, Any]:
    data: dict[str, Any] = {"id": node.id}
    title = node.restored.get("title") or node.title
    if title:
        data["title"] = title
    data["statement"] = node.restored.get("statement") or node.statement
    for key in ("i_can", "i_can_levels"):
        if node.restored.get(key):
            data[key] = node.restored[key]
    indicators = node.restored.get("indicators")
    case = dict(node.case)
    if not indicators:
        indicators = placeholder_indicators(draft.scale, node.statement)
        case["placeholder_indicators"] = True
        draft.placeholder_count += 1
    data["indicators"] = indicators
    if node.restored.get("prerequisites"):
        data["prerequisites"] = node.restored["prerequisites"]
    if node.alignments:
        data["alignments"] = node.alignments
    children = [_record(n) for c in node.children for n in c.walk()]
    if children:
        case["children"] = children
    if case:
        data["case"] = case
    return data


def _competency(node: Node) -> dict[str, Any]:
    data: dict[str, Any] = {"id": node.id}
    title = node.restored.get("title") or node.title
    data["title"] = title or short_title(node.statement)
    data["statement"] = node.restored.get("statement") or node.statement
    for key in ("kind", "scale", "i_can", "subject"):
        if node.restored.get(key):
            data[key] = node.restored[key]
    data["targets"] = []
    if node.alignments:
        data["alignments"] = node.alignments
    case = dict(node.case)
    if not title:
        case["title_derived"] = True  # so that export does not invent an abbreviatedStatement
    if case:
        data["case"] = case
    return data


@dataclass
class PlacedFramework:
    """The framework's competencies grouped by top-level node (for ``--split``)."""

    main: dict[str, Any]
    parts: list[tuple[str, list[dict[str, Any]]]]


def place(draft: Draft, allocator: IdAllocator) -> PlacedFramework:
    """Competency and target dicts in document order, groups into ``case.groups``."""
    groups: list[dict[str, Any]] = []
    by_node: dict[int, dict[str, Any]] = {}
    parts: list[tuple[str, list[dict[str, Any]]]] = []
    for root in draft.roots:
        competencies: list[dict[str, Any]] = []
        for node in root.walk():
            if node.role == "group":
                groups.append(_record(node))
            elif node.role == "competency":
                by_node[id(node)] = _competency(node)
                competencies.append(by_node[id(node)])
            elif node.role == "target":
                owner = competency_of(node)
                if owner is None:
                    synthetic = draft.synthetic_competency(allocator)
                    synthetic["targets"].append(_target(node, draft))
                else:
                    by_node[id(owner)]["targets"].append(_target(node, draft))
        part_name = root.code or root.title or root.statement
        parts.append((slug(part_name) or root.key, competencies))
    if draft.synthetic is not None:
        parts.insert(0, ("general", [draft.synthetic]))
    if groups:
        draft.case["groups"] = groups
    main: dict[str, Any] = {
        "kind": "framework", "schema_version": 1, "id": draft.framework_id,
        "title": draft.title,
    }
    if draft.description:
        main["description"] = draft.description
    main["languages"] = draft.languages
    if draft.namespace:
        main["namespace"] = draft.namespace
    main["default_scale"] = draft.scale["id"]
    main["scales"] = [draft.scale, *draft.extra_scales]
    return PlacedFramework(main=main, parts=[(n, c) for n, c in parts if c])


def framework_files(
    draft: Draft, placed: PlacedFramework, *, split: bool, schema_ref: str
) -> list[tuple[str, dict[str, Any]]]:
    """(file name, YAML data) pairs: one file, or a main file plus one per top-level group."""
    main = dict(placed.main)
    tail: dict[str, Any] = {}
    if draft.progressions:
        tail["progressions"] = draft.progressions
    if draft.case:
        tail["case"] = draft.case
    base = draft.framework_id
    if not split:
        competencies = [c for _, comps in placed.parts for c in comps]
        if competencies:
            main["competencies"] = competencies
        main.update(tail)
        return [(f"{base}.yaml", main)]
    main.update(tail)
    files = [(f"{base}.yaml", main)]
    used = {f"{base}.yaml"}
    for name, competencies in placed.parts:
        file_name = f"{base}.{name}.yaml"
        number = 2
        while file_name in used:
            file_name = f"{base}.{name}-{number}.yaml"
            number += 1
        used.add(file_name)
        files.append((file_name, {
            "kind": "framework", "schema_version": 1, "id": base, "competencies": competencies,
        }))
    return files
