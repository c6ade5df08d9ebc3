"""``mastery import case``: a CASE package (CFPackage JSON) to framework YAML.

Real packages rarely pass the CASE 1.1 schema: pre-1.0 drafts use ASN URLs as identifiers,
OpenSALT writes ``sequenceNumber`` as text and misspells ``educationLevel``, some URIs are null.
The import is lenient: every deviation becomes a warning with its JSON pointer, and only a
package whose meaning cannot be recovered (not JSON, no CFDocument) is refused.

Nothing is dropped. Each item becomes a competency, a target, a group (``case.groups``) or a
folded child (``case.children``) — see ``tree`` — and keeps its identifier, URI, statement and
every other property under ``case``. Associations other than the tree's own ``isChildOf`` stay
with the item they start from (``case.associations``) and are also shown the way a school
reads them: ``exactMatchOf`` and friends as ``alignments``, ``precedes`` between targets as
``progressions``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mastery_cli.diagnostics import Diagnostic, MasteryError, error, shortened, warning
from mastery_cli.inputs import hint_for, read_regular_bytes
from mastery_cli.interop import case_model
from mastery_cli.interop.case_fields import (
    ASSOCIATION_FIELDS,
    DOCUMENT_FIELDS,
    EXTENSION_KEY,
    ITEM_FIELDS,
    ITEM_TEXT,
    to_yaml_fields,
)
from mastery_cli.interop.case_ids import (
    IdAllocator,
    is_uuid,
    namespace_from_identifier,
    slug,
)
from mastery_cli.interop.case_model import escape
from mastery_cli.interop.case_rubrics import RubricImport, scale_from_rubrics
from mastery_cli.interop.surrogates import without_lone_surrogates
from mastery_cli.interop.tree import (
    DEFAULT_SCALE,
    Draft,
    LevelSpec,
    Node,
    allocate_ids,
    assign_roles,
    framework_files,
    place,
    walk,
)
from mastery_cli.jsonfile import JsonProblem, parse_json

SCHEMA_REF = "https://mastery-cli.org/schemas/framework.schema.json"
ALIGNMENT_RELATIONS = (
    "exactMatchOf", "isRelatedTo", "isPartOf", "isPeerOf", "precedes", "exemplar",
    "hasSkillLevel", "isTranslationOf",
)


@dataclass
class ImportOptions:
    levels: str | None = None
    split: bool = False
    framework_id: str | None = None
    schema_ref: str = SCHEMA_REF


@dataclass
class ImportResult:
    """The files to write (name, YAML data) and what was noticed on the way.

    ``summary`` says in one line what became of the source's objects, for the CLI to print.
    """

    files: list[tuple[str, dict[str, Any]]]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    summary: str = ""


_NOUNS = {
    "competencies": ("competency", "competencies"), "targets": ("target", "targets"),
    "groups": ("group", "groups"), "folded": ("item folded into targets",
                                              "items folded into targets"),
    "progressions": ("progression", "progressions"), "rubric_files": ("rubric file",
                                                                       "rubric files"),
    "rubric_indicators": ("target with indicators from a rubric",
                          "targets with indicators from rubrics"),
    "placeholder_indicators": ("target with placeholder indicators",
                               "targets with placeholder indicators"),
}


def counted(number: int, key: str) -> str:
    singular, plural = _NOUNS.get(key, (key.replace("_", " "), key.replace("_", " ")))
    return f"{number} {singular if number == 1 else plural}"


def summary_line(source: str, counts: dict[str, int], extras: tuple[str, ...]) -> str:
    """"imported 64 Moodle competencies as 16 competencies, 44 targets and 4 groups; …"."""
    placed = [counted(counts.get(k, 0), k) for k in ("competencies", "targets", "groups")
              if counts.get(k) or k != "groups"]
    line = f"imported {source} as {', '.join(placed[:-1])} and {placed[-1]}"
    more = [counted(counts[k], k) for k in extras if counts.get(k)]
    return line + ("; " + ", ".join(more) if more else "")


class _Reader:
    """Reads one package, collecting warnings as it goes."""

    def __init__(self, path: str, package: dict[str, Any]):
        self.path = path
        self.package = package
        self.diagnostics: list[Diagnostic] = []

    def warn(self, code: str, message: str, pointer: str, hint: str | None = None) -> None:
        self.diagnostics.append(warning(code, message, self.path, hint=hint, pointer=pointer))

    def check(self, obj: Any, cls: str, pointer: str) -> None:
        for deviation in case_model.deviations(obj, cls, pointer):
            self.warn("case-deviation", f"{deviation.message} (at {deviation.pointer})",
                      deviation.pointer)

    def list_of(self, key: str) -> list[Any]:
        value = self.package.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.warn("case-deviation", f"'{shortened(key)}' should be a list; ignored", f"/{key}")
            return []
        return value


def _link_identifier(link: Any, legacy: Any) -> str | None:
    if isinstance(link, dict) and isinstance(link.get("identifier"), str):
        return str(link["identifier"])
    if isinstance(legacy, str):
        return legacy
    if isinstance(link, str):  # some drafts give the URI only
        return link
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _restored(extensions: Any) -> dict[str, Any]:
    if isinstance(extensions, dict) and isinstance(extensions.get(EXTENSION_KEY), dict):
        return dict(extensions[EXTENSION_KEY])
    return {}


def _without_ours(case: dict[str, Any]) -> None:
    """Drop our own extension from what is kept: its content is restored into the YAML."""
    extensions = case.get("extensions")
    if isinstance(extensions, dict) and EXTENSION_KEY in extensions:
        rest = {k: v for k, v in extensions.items() if k != EXTENSION_KEY}
        if rest:
            case["extensions"] = rest
        else:
            del case["extensions"]


def _read_items(reader: _Reader, document_id: str | None
                ) -> tuple[dict[str, Node], dict[str, str]]:
    """Nodes by identifier, and the identifiers an earlier export wrote for restored ones."""
    nodes: dict[str, Node] = {}
    aliases: dict[str, str] = {}
    for index, raw in enumerate(reader.list_of("CFItems")):
        pointer = f"/CFItems/{index}"
        reader.check(raw, "CFPckgItem", pointer)
        if not isinstance(raw, dict):
            continue
        identifier = _text(raw.get("identifier"))
        restored = _restored(raw.get("extensions"))
        case = to_yaml_fields(raw, ITEM_FIELDS, "CFPckgItem", skip=ITEM_TEXT)
        _without_ours(case)
        if isinstance(restored.get("source_identifier"), str):
            if identifier is not None:
                aliases[identifier] = restored["source_identifier"]
            case["identifier"] = identifier = restored["source_identifier"]
        key = identifier or _text(raw.get("uri")) or f"#item-{index}"
        if identifier is None:
            reader.warn("case-missing-identifier",
                        "item has no identifier; a new one is made on export",
                        f"{pointer}/identifier")
        if key in nodes or key == document_id:
            reader.warn("case-duplicate-identifier",
                        f"identifier '{shortened(key)}' is used twice; the second item gets a "
                        "new one on "
                        "export", f"{pointer}/identifier")
            case.pop("identifier", None)
            case["duplicate_identifier"] = key
            key = f"{key}#{index}"
        statement = _text(raw.get("fullStatement"))
        title = _text(raw.get("abbreviatedStatement"))
        if statement is None:
            statement = title or _text(raw.get("humanCodingScheme")) or "(no statement)"
            case["full_statement_missing"] = True
            reader.warn("case-missing-statement",
                        f"item has no fullStatement; using '{statement[:60]}'",
                        f"{pointer}/fullStatement")
        item_type = _text(raw.get("CFItemType"))
        if item_type is None and isinstance(raw.get("CFItemTypeURI"), dict):
            item_type = _text(raw["CFItemTypeURI"].get("title"))
        nodes[key] = Node(
            key=key, statement=statement, pointer=pointer,
            code=_text(raw.get("humanCodingScheme")), title=title, item_type=item_type,
            case=case, restored=restored,
        )
    return nodes, aliases


@dataclass
class _Association:
    index: int
    type: str
    origin: str | None
    destination: str | None
    record: dict[str, Any]


def _read_associations(reader: _Reader, aliases: dict[str, str]) -> list[_Association]:
    result = []
    for index, raw in enumerate(reader.list_of("CFAssociations")):
        pointer = f"/CFAssociations/{index}"
        reader.check(raw, "CFPckgAssociation", pointer)
        if not isinstance(raw, dict):
            continue
        kind = _text(raw.get("associationType"))
        origin = _link_identifier(raw.get("originNodeURI"), raw.get("originNodeIdentifier"))
        destination = _link_identifier(raw.get("destinationNodeURI"),
                                       raw.get("destinationNodeIdentifier"))
        if kind is None or origin is None or destination is None:
            reader.warn("case-broken-association",
                        "association without a type, origin or destination; kept as it is",
                        pointer)
        record = to_yaml_fields(raw, ASSOCIATION_FIELDS, "CFPckgAssociation",
                                skip=("originNodeURI", "destinationNodeURI",
                                      "originNodeIdentifier", "destinationNodeIdentifier"))
        for end in ("originNodeURI", "destinationNodeURI"):
            if isinstance(raw.get(end), dict):
                record["origin" if end.startswith("origin") else "destination"] = {
                    k: v for k, v in raw[end].items() if v is not None
                }
            elif raw.get(end) is not None:
                record.setdefault("source_fields", {})[end] = raw[end]
        ours = _restored(record.get("extensions"))
        _without_ours(record)
        if isinstance(ours.get("source_identifier"), str):
            record["identifier"] = ours["source_identifier"]
        origin = aliases.get(origin, origin) if origin else origin
        destination = aliases.get(destination, destination) if destination else destination
        for end, key in (("origin", origin), ("destination", destination)):
            if isinstance(record.get(end), dict) and key is not None:
                record[end]["identifier"] = key
        result.append(_Association(index, kind or "", origin, destination, record))
    return result


def _break_cycles(reader: _Reader, nodes: dict[str, Node],
                  parent_of: dict[str, tuple[str | None, _Association]]) -> None:
    """An item may not be its own ancestor: each loop of isChildOf links is broken at its item
    that comes first in the package, which is placed at the top.

    Each item is walked through once, however deep the hierarchy: a walk up stops at an item
    an earlier walk went through (a chain of 10,000 items is 10,000 steps, not 50 million).
    """
    first_seen = {key: position for position, key in enumerate(parent_of)}
    settled: set[str] = set()
    for start in parent_of:
        path: list[str] = []
        on_path: set[str] = set()
        key: str | None = start
        while key is not None and key in parent_of and key not in settled:
            if key in on_path:
                loop = path[path.index(key):]
                first = min(loop, key=first_seen.__getitem__)
                reader.warn("case-hierarchy-cycle",
                            "isChildOf associations form a loop through "
                            f"'{shortened(first)}'; it is placed at the top",
                            nodes[first].pointer)
                parent_of[first] = (None, parent_of[first][1])
                break
            path.append(key)
            on_path.add(key)
            key = parent_of[key][0]
        settled.update(path)


def _build_tree(reader: _Reader, nodes: dict[str, Node], associations: list[_Association],
                document_id: str | None) -> tuple[list[Node], list[_Association]]:
    """Parent links from isChildOf, children in sequence order; the other associations back."""
    parent_of: dict[str, tuple[str | None, _Association]] = {}
    others: list[_Association] = []
    for assoc in associations:
        if assoc.type != "isChildOf" or assoc.origin not in nodes:
            others.append(assoc)
            continue
        if assoc.origin in parent_of:
            others.append(assoc)  # a second parent: kept as an association of its own
            continue
        parent = assoc.destination if assoc.destination in nodes else None
        if parent is None and assoc.destination != document_id:
            reader.warn("case-unknown-parent",
                        f"isChildOf points at '{shortened(str(assoc.destination))}', which is "
                        "neither an item "
                        "nor the document; the item is placed at the top",
                        f"/CFAssociations/{assoc.index}/destinationNodeURI")
        parent_of[assoc.origin] = (parent, assoc)
    _break_cycles(reader, nodes, parent_of)
    order = {key: position for position, key in enumerate(nodes)}
    roots: list[Node] = []
    for key, node in nodes.items():
        parent_key, found = parent_of.get(key, (None, None))
        if found is not None:
            assoc = found
            child_of = {k: v for k, v in assoc.record.items()
                        if k not in ("type", "origin", "destination")}
            node.case["parent"] = assoc.destination
            node.case["child_of"] = child_of
        elif nodes and document_id is not None:
            reader.warn("case-orphan-item",
                        "item has no isChildOf association; placed under the document",
                        node.pointer)
        if parent_key is None:
            roots.append(node)
        else:
            node.parent = nodes[parent_key]
            nodes[parent_key].children.append(node)

    def sort_key(node: Node) -> tuple[int, int, int]:
        sequence = node.case.get("child_of", {}).get("sequence")
        if isinstance(sequence, int) and not isinstance(sequence, bool):
            return (0, sequence, order[node.key])
        return (1, 0, order[node.key])

    roots.sort(key=sort_key)
    for node in nodes.values():
        node.children.sort(key=sort_key)
    for node in walk(roots):
        node.depth = node.parent.depth + 1 if node.parent else 1
    return roots, others


def _alignment(assoc: _Association, nodes: dict[str, Node]) -> dict[str, Any] | None:
    if assoc.type not in ALIGNMENT_RELATIONS:
        return None
    alignment: dict[str, Any] = {}
    target = nodes.get(assoc.destination or "")
    destination = assoc.record.get("destination", {})
    if target is not None:
        code = target.id or target.code
        if code:
            alignment["code"] = code
        uri = target.case.get("uri")
    else:
        uri = destination.get("uri")
    if isinstance(uri, str) and uri:
        alignment["uri"] = uri
    if not alignment:
        alignment["code"] = assoc.destination or "unknown"
    alignment["relation"] = assoc.type
    return alignment


def _progressions(edges: list[tuple[Node, Node]], allocator: IdAllocator, base: str
                  ) -> list[dict[str, Any]]:
    """Chains of ``precedes`` between targets; an edge that would close a loop is left out."""
    after: dict[str, set[str]] = {}

    def reaches(start: str, goal: str) -> bool:
        stack, seen = [start], set()
        while stack:
            current = stack.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                stack.extend(after.get(current, ()))
        return False

    chains: list[list[str]] = []
    for first, second in edges:
        if first.id == second.id or reaches(second.id, first.id):
            continue
        if second.id in after.get(first.id, set()):
            continue
        after.setdefault(first.id, set()).add(second.id)
        for chain in chains:
            if chain[-1] == first.id and second.id not in chain:
                chain.append(second.id)
                break
        else:
            chains.append([first.id, second.id])
    return [
        {"id": allocator.claim(f"{base}-progression-{n}", "progression"), "targets": chain}
        for n, chain in enumerate(chains, 1)
    ]


def _scale_from_restored(restored: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    scales = restored.get("scales")
    if isinstance(scales, list) and scales and all(isinstance(s, dict) for s in scales):
        wanted = restored.get("default_scale")
        default = next((s for s in scales if s.get("id") == wanted), scales[0])
        return default, [s for s in scales if s is not default]
    return DEFAULT_SCALE, []


def read_case_package(path: Path, options: ImportOptions | None = None,
                      display: str | None = None) -> ImportResult:
    """Read a CASE package and return the framework files it becomes (not yet written)."""
    options = options or ImportOptions()
    shown = display or str(path)
    try:
        raw = read_regular_bytes(path)
    except OSError as exc:
        raise MasteryError(error("file-unreadable", f"cannot read the file: {exc.strerror}",
                                 shown, hint=hint_for(exc))) from None
    try:
        text = raw.decode("utf-8-sig")
        package = parse_json(text)
    except JsonProblem as exc:
        raise MasteryError(exc.diagnostic(shown)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        column = getattr(exc, "colno", None)
        raise MasteryError(error("case-not-json", f"not a JSON file: {exc}", shown, line,
                                 column, hint="a CASE package is the JSON of a CFPackage"
                                 )) from None
    if not isinstance(package, dict) or not isinstance(package.get("CFDocument"), dict):
        raise MasteryError(error(
            "case-no-document", "no CFDocument: this is not a CASE package", shown,
            pointer="/CFDocument",
            hint="export the framework as a CFPackage (with CFDocument, CFItems and "
            "CFAssociations) from your CASE publisher",
        ))
    package, replaced = without_lone_surrogates(package, text, shown)
    result = _import(package, shown, options)
    result.diagnostics[:0] = replaced
    return result


def _import(package: dict[str, Any], shown: str, options: ImportOptions) -> ImportResult:
    reader = _Reader(shown, package)
    known = {"CFDocument", "CFItems", "CFAssociations", "CFDefinitions", "CFRubrics",
             "extensions"}
    for key in package:
        if key not in known:
            reader.warn("case-deviation", f"'{shortened(key)}' is not a CFPackage property; kept",
                        f"/{escape(key)}")
    document = package["CFDocument"]
    reader.check(document, "CFPckgDocument", "/CFDocument")
    document_id = _text(document.get("identifier"))
    restored = _restored(document.get("extensions"))
    spec = LevelSpec.parse(options.levels)
    nodes, aliases = _read_items(reader, document_id)
    if document_id is not None and isinstance(restored.get("source_identifier"), str):
        aliases[document_id] = document_id = restored["source_identifier"]
    associations = _read_associations(reader, aliases)
    roots, others = _build_tree(reader, nodes, associations, document_id)
    if spec is not None:
        for entry in spec.unused(roots):
            reader.warn("case-level-unused", f"no item matches level '{entry}' of --levels",
                        "/CFItems", hint="item types in this package: " + ", ".join(
                            sorted({n.item_type for n in nodes.values() if n.item_type})))
    assign_roles(roots, spec)

    title = _text(document.get("title")) or "Imported framework"
    framework_id = (options.framework_id or _text(restored.get("framework_id"))
                    or slug(title) or "imported")
    allocator = IdAllocator()
    allocate_ids(roots, allocator)
    scale, extra_scales = _scale_from_restored(restored)
    rubrics = reader.list_of("CFRubrics")
    if scale is DEFAULT_SCALE:
        scale = scale_from_rubrics(rubrics, [lv["value"] for lv in DEFAULT_SCALE["levels"]]
                                   ) or DEFAULT_SCALE
    rubric_import = RubricImport(rubrics, nodes, aliases, scale, reader.warn)
    rubric_count = rubric_import.apply_indicators()

    draft_case = to_yaml_fields(document, DOCUMENT_FIELDS, "CFPckgDocument",
                                skip=("title", "description"))
    _without_ours(draft_case)
    if isinstance(restored.get("source_identifier"), str):
        draft_case["identifier"] = restored["source_identifier"]
    if isinstance(package.get("CFDefinitions"), dict):
        draft_case["definitions"] = package["CFDefinitions"]
        for name, entries in package["CFDefinitions"].items():
            cls = case_model.DEFINITION_CLASSES.get(name)
            if cls is None:
                if name != "extensions":
                    reader.warn("case-deviation",
                                f"'{shortened(name)}' is not a CFDefinitions list",
                                f"/CFDefinitions/{escape(name)}")
                continue
            for index, entry in enumerate(entries if isinstance(entries, list) else []):
                reader.check(entry, cls, f"/CFDefinitions/{name}/{index}")
    for index, rubric in enumerate(rubrics):
        reader.check(rubric, "CFRubric", f"/CFRubrics/{index}")
    if rubrics:
        draft_case["rubrics"] = rubrics
    if isinstance(package.get("extensions"), dict):
        draft_case["package_extensions"] = package["extensions"]
    extra_package = {k: v for k, v in package.items() if k not in known}
    if extra_package:
        draft_case["package_source_fields"] = extra_package

    languages = restored.get("languages")
    if not (isinstance(languages, list) and languages):
        language = _text(document.get("language"))
        languages = [language.lower()] if language and language.isalpha() and 2 <= len(
            language) <= 3 else ["en"]
    draft = Draft(
        framework_id=framework_id, title=_text(restored.get("title")) or title,
        description=_text(document.get("description")), roots=roots, scale=scale,
        extra_scales=extra_scales, languages=languages,
        namespace=_text(restored.get("namespace")) or (
            namespace_from_identifier(document_id) if document_id else None),
        case=draft_case,
    )

    edges: list[tuple[Node, Node]] = []
    kept_at_top: list[dict[str, Any]] = []
    for assoc in others:
        origin = nodes.get(assoc.origin or "")
        record = dict(assoc.record)
        if origin is None:
            record.setdefault("origin_identifier", assoc.origin)
            kept_at_top.append(record)
            continue
        origin.case.setdefault("associations", []).append(record)
        destination = nodes.get(assoc.destination or "")
        if (assoc.type == "precedes" and destination is not None
                and origin.role == destination.role == "target"):
            edges.append((origin, destination))
            continue
        if origin.role in ("competency", "target"):
            alignment = _alignment(assoc, nodes)
            if alignment is not None and alignment not in origin.alignments:
                origin.alignments.append(alignment)
    if kept_at_top:
        draft.case["associations"] = kept_at_top
    draft.progressions = _progressions(edges, allocator, framework_id)
    if isinstance(restored.get("progressions"), list):
        draft.progressions = restored["progressions"]

    placed = place(draft, allocator)
    files = framework_files(draft, placed, split=options.split, schema_ref=options.schema_ref)
    rubric_files = rubric_import.files(framework_id, allocator)
    files += rubric_files
    if draft.placeholder_count:
        reader.warn(
            "placeholder-indicators",
            f"{draft.placeholder_count} target(s) got placeholder performance indicators "
            "('<level> — <statement>'); CASE has no performance levels",
            "", hint="rewrite them under 'indicators:'; they are marked "
            "'case.placeholder_indicators: true'",
        )
    roles = [n.role for n in walk(roots)]
    counts = {
        "items": len(nodes),
        "associations": len(associations),
        "competencies": roles.count("competency") + (1 if draft.synthetic else 0),
        "targets": roles.count("target"),
        "groups": roles.count("group"),
        "folded": roles.count("child"),
        "progressions": len(draft.progressions),
        "rubric_indicators": rubric_count,
        "rubric_files": len(rubric_files),
        "placeholder_indicators": draft.placeholder_count,
    }
    if not is_uuid(document_id):
        reader.warn("case-identifier-not-uuid",
                    "the document identifier is not a lower-case UUID; export will derive one "
                    "and keep this one in extensions", "/CFDocument/identifier")
    items = counts["items"]
    summary = summary_line(f"{items} CASE item{'s' if items != 1 else ''}", counts, (
        "folded", "progressions", "rubric_files", "rubric_indicators", "placeholder_indicators"))
    return ImportResult(files=files, diagnostics=reader.diagnostics, counts=counts,
                        summary=summary)
