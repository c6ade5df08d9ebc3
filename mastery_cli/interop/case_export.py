"""``mastery export case``: a framework to a CASE 1.1 CFPackage that passes the official schema.

Identifiers are stable. An object imported from CASE keeps its identifier (lower-cased if
needed); one that had none, or one that was not a UUID (pre-1.0 drafts used ASN URLs), gets a
UUID version 5 from the framework's namespace, and a non-UUID original is kept in the item's
``extensions.mastery.source_identifier`` so that importing the export gives it back. Nothing
depends on the clock: timestamps come from the imported objects, else from ``changed`` (or
``SOURCE_DATE_EPOCH``), so exporting twice gives byte-identical JSON.

What CASE has no property for — scales and their mastery level, performance indicators,
"I can" statements, the kind of a competency — goes into ``extensions.mastery``.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass
from typing import Any

from mastery_cli.diagnostics import Diagnostic, warning
from mastery_cli.framework.model import Framework, Scale, Text, level_key
from mastery_cli.interop import case_model
from mastery_cli.interop.case_fields import (
    ASSOCIATION_FIELDS,
    DOCUMENT_FIELDS,
    EXTENSION_KEY,
    ITEM_FIELDS,
    from_yaml_fields,
)
from mastery_cli.interop.case_ids import (
    is_uuid,
    is_uuid_any_case,
    namespace_for,
    stable_uuid,
    timestamp_from_epoch,
)
from mastery_cli.interop.tree import short_title

DEFAULT_CHANGED = "1970-01-01T00:00:00+00:00"


@dataclass
class ExportOptions:
    base_uri: str | None = None
    changed: str | None = None


@dataclass
class _Entry:
    """One CFItem to write, keyed by its source identifier (or a generated one)."""

    key: str
    identifier: str
    uri: str
    item: dict[str, Any]
    parent: str | None
    child_of: dict[str, Any] | None
    associations: list[dict[str, Any]]
    extension: dict[str, Any]
    order: int
    source_parent: str | None = None


class _Exporter:
    def __init__(self, framework: Framework, options: ExportOptions):
        self.framework = framework
        self.case = framework.case or {}
        self.namespace = namespace_for(framework.id, framework.namespace)
        self.diagnostics: list[Diagnostic] = []
        self.used: set[str] = set()
        self.changed = self._default_changed(options.changed)
        self.base_uri = options.base_uri or self._base_from_document()
        self.entries: dict[str, _Entry] = {}

    def _default_changed(self, given: str | None) -> str:
        if given:
            return case_model.coerce(given, "datetime") or DEFAULT_CHANGED
        stored = case_model.coerce(self.case.get("last_change_date_time"), "datetime")
        if stored:
            return str(stored)
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
        return timestamp_from_epoch(int(epoch)) if epoch.isdigit() else DEFAULT_CHANGED

    def _base_from_document(self) -> str | None:
        uri, identifier = self.case.get("uri"), self.case.get("identifier")
        if isinstance(uri, str) and isinstance(identifier, str) and uri.endswith(identifier):
            return uri[: len(uri) - len(identifier)]
        return None

    # -- identity ---------------------------------------------------------------------------
    def identity(self, raw: Any, *parts: str) -> tuple[str, str | None]:
        """(UUID to write, the original when it had to change) for an object."""
        if is_uuid(raw):
            identifier, source = str(raw), None
        elif is_uuid_any_case(raw):
            identifier, source = str(raw).lower(), str(raw)
        elif isinstance(raw, str) and raw:
            identifier, source = stable_uuid(self.namespace, "source", raw), raw
        else:
            identifier, source = stable_uuid(self.namespace, *parts), None
        if identifier in self.used:
            self.diagnostics.append(warning(
                "case-duplicate-identifier",
                f"identifier {identifier} is used by two objects; the second gets a new one",
                "/".join(parts)))
            identifier = stable_uuid(self.namespace, "duplicate", *parts)
        self.used.add(identifier)
        return identifier, source

    def uri_for(self, stored: Any, identifier: str) -> str:
        if isinstance(stored, str) and stored:
            return stored
        if self.base_uri:
            return f"{self.base_uri}{identifier}"
        return f"urn:uuid:{identifier}"

    def changed_of(self, stored: Any) -> str:
        return str(case_model.coerce(stored, "datetime") or self.changed)

    def text(self, value: Text | None) -> str:
        return self.framework.text(value)

    # -- items ------------------------------------------------------------------------------
    def add_entry(self, case: dict[str, Any], statement: str, title: str | None,
                  parent: str | None, role: str, our_id: str, item_type: str,
                  extension: dict[str, Any]) -> _Entry:
        raw_identifier = case.get("identifier")
        identifier, source = self.identity(raw_identifier, "item", our_id)
        key = str(raw_identifier) if isinstance(raw_identifier, str) and raw_identifier else (
            identifier)
        item = from_yaml_fields(case, ITEM_FIELDS)
        item["identifier"] = identifier
        item["uri"] = self.uri_for(case.get("uri"), identifier)
        item["fullStatement"] = statement
        if title and title != statement:
            item["abbreviatedStatement"] = title
        item.setdefault("CFItemType", item_type)
        item["lastChangeDateTime"] = self.changed_of(case.get("last_change_date_time"))
        # A group has no id of ours; "group-<n>" (its place in case.groups, which an import may
        # reorder among siblings with equal sequence numbers) only seeds a missing identifier.
        ours = {"role": role, **({} if role == "group" else {"id": our_id}), **extension}
        if source is not None:
            ours["source_identifier"] = source
        extensions = dict(item.get("extensions") or {}) if isinstance(
            item.get("extensions"), dict) else {}
        extensions[EXTENSION_KEY] = ours
        item["extensions"] = extensions
        entry = _Entry(
            key=key, identifier=identifier, uri=item["uri"], item=item, parent=parent,
            child_of=case.get("child_of") if isinstance(case.get("child_of"), dict) else None,
            associations=[a for a in case.get("associations") or [] if isinstance(a, dict)],
            extension=ours, order=len(self.entries),
            source_parent=_str(case.get("parent")),
        )
        self.entries[key] = entry
        return entry

    def collect(self) -> None:
        fw = self.framework
        groups = [g for g in self.case.get("groups") or [] if isinstance(g, dict)]
        for index, group in enumerate(groups):
            self.add_entry(group, str(group.get("full_statement") or "(no statement)"),
                           _str(group.get("abbreviated_statement")), _str(group.get("parent")),
                           "group", f"group-{index}", "Group", {})
        for competency in fw.competencies.values():
            case = competency.case or {}
            statement = self.text(competency.statement) or self.text(competency.title)
            comp_key: str | None = None
            if not case.get("synthetic"):
                title = None if case.get("title_derived") else self.text(competency.title)
                extension = _localized({"title": competency.title,
                                        "statement": competency.statement})
                if case.get("title_derived"):
                    extension.pop("title", None)
                extension.update(_compact({
                    "kind": competency.kind if competency.kind != "academic" else None,
                    "scale": competency.scale_id,
                    "i_can": competency.i_can,
                    "subject": competency.subject,
                }))
                parent = _str(case.get("parent"))
                if parent in self.entries and self.entries[parent].extension.get(
                        "role") == "target":
                    parent = None
                entry = self.add_entry(case, statement, title, parent, "competency",
                                       competency.id, "Competency", extension)
                comp_key = entry.key
            for target in competency.targets:
                self.add_target(target, comp_key)

    def add_target(self, target: Any, comp_key: str | None) -> None:
        case = target.case or {}
        parent = _str(case.get("parent"))
        known = self.entries.get(parent or "")
        if known is None or known.extension.get("role") == "competency":
            parent = comp_key  # moved in the YAML, or never had a CASE parent
        extension = _localized({"title": target.title, "statement": target.statement})
        extension.update(_compact({
            "i_can": target.i_can,
            "i_can_levels": {level_key(k): v for k, v in target.i_can_levels.items()} or None,
            "indicators": None if case.get("placeholder_indicators") else (
                {level_key(k): v for k, v in target.indicators.items()} or None),
            "prerequisites": list(target.prerequisites) or None,
        }))
        entry = self.add_entry(case, self.text(target.statement),
                               self.text(target.title) if target.title else None, parent,
                               "target", target.id, "Learning Target", extension)
        for index, child in enumerate(c for c in case.get("children") or []
                                      if isinstance(c, dict)):
            child_parent = _str(child.get("parent"))
            if child_parent not in self.entries:
                child_parent = entry.key
            self.add_entry(child, str(child.get("full_statement") or "(no statement)"),
                           _str(child.get("abbreviated_statement")), child_parent, "child",
                           f"{target.id}/child-{index}", "Component", {})

    # -- associations -----------------------------------------------------------------------
    def link(self, key: str | None) -> dict[str, Any]:
        if key is None or key not in self.entries:
            return {"title": self.text(self.framework.title) or self.framework.id,
                    "identifier": self.document_identifier, "uri": self.document_uri}
        entry = self.entries[key]
        item = entry.item
        title = item.get("humanCodingScheme") or item.get("abbreviatedStatement") or (
            short_title(item["fullStatement"]))
        return {"title": title, "identifier": entry.identifier, "uri": entry.uri}

    def association(self, record: dict[str, Any], kind: str, origin: dict[str, Any],
                    destination: dict[str, Any], *parts: str) -> dict[str, Any]:
        identifier, source = self.identity(record.get("identifier"), *parts)
        data = from_yaml_fields(record, ASSOCIATION_FIELDS)
        data.pop("associationType", None)
        data.pop("sequenceNumber", None)
        result: dict[str, Any] = {"identifier": identifier, "associationType": kind}
        if isinstance(record.get("sequence"), int) and not isinstance(record["sequence"], bool):
            result["sequenceNumber"] = record["sequence"]
        result["uri"] = self.uri_for(record.get("uri"), identifier)
        result["originNodeURI"] = origin
        result["destinationNodeURI"] = destination
        for key, value in data.items():
            if key not in ("identifier", "uri"):
                result[key] = value
        result["lastChangeDateTime"] = self.changed_of(record.get("last_change_date_time"))
        if source is not None:
            extensions = dict(result.get("extensions") or {})
            extensions[EXTENSION_KEY] = {"source_identifier": source}
            result["extensions"] = extensions
        if "CFAssociationGroupingURI" in result and not case_model._is_link(
                result["CFAssociationGroupingURI"]):
            # A grouping link without a UUID or URI is not valid CASE: keep it aside.
            extensions = dict(result.get("extensions") or {})
            extensions.setdefault("sourceFields", {})["CFAssociationGroupingURI"] = result.pop(
                "CFAssociationGroupingURI")
            result["extensions"] = extensions
        return case_model.conform(result, "CFPckgAssociation")

    def destination(self, stored: Any, fallback_key: str | None) -> dict[str, Any]:
        stored = stored if isinstance(stored, dict) else {}
        key = _str(stored.get("identifier")) or fallback_key
        if key in self.entries:
            return self.link(key)
        if key == self.case.get("identifier"):
            return self.link(None)
        identifier = key or "unknown"
        result = {
            "title": _str(stored.get("title")) or identifier,
            "identifier": identifier,
            "uri": _str(stored.get("uri")) or (identifier if ":" in identifier
                                                else f"urn:case:{identifier}"),
        }
        if isinstance(stored.get("targetType"), str):
            result["targetType"] = stored["targetType"]
        return result

    def associations(self) -> list[dict[str, Any]]:
        result = []
        ordered = self.ordered_entries()
        siblings: dict[str | None, list[_Entry]] = {}
        for entry in ordered:
            siblings.setdefault(entry.parent if entry.parent in self.entries else None,
                                []).append(entry)
        for parent, group in siblings.items():
            stored = [e.child_of.get("sequence") if e.child_of else None for e in group]
            numbers = [s for s in stored if isinstance(s, int) and not isinstance(s, bool)]
            # Stored sequence numbers are kept while they still agree with the YAML's order.
            keep = len(numbers) == len(stored) and all(
                a < b for a, b in itertools.pairwise(numbers))
            for position, entry in enumerate(group, 1):
                record = dict(entry.child_of or {})
                if entry.source_parent != parent:
                    # Moved in the YAML: a new association, not the old one re-pointed.
                    record = {k: v for k, v in record.items() if k not in ("identifier", "uri")}
                record["sequence"] = stored[position - 1] if keep else position
                result.append(self.association(
                    record, "isChildOf", self.link(entry.key), self.link(parent),
                    "isChildOf", entry.key, parent or "document"))
        seen: set[tuple[str, str, str]] = set()
        for entry in ordered:
            for index, record in enumerate(entry.associations):
                kind = _str(record.get("type")) or "isRelatedTo"
                destination = self.destination(record.get("destination"), None)
                seen.add((kind, entry.identifier, destination["identifier"]))
                seen.add((kind, entry.identifier, destination["uri"]))
                result.append(self.association(record, kind, self.link(entry.key), destination,
                                               kind, entry.key, str(index)))
        for index, record in enumerate(r for r in self.case.get("associations") or []
                                       if isinstance(r, dict)):
            kind = _str(record.get("type")) or "isRelatedTo"
            origin = self.destination(record.get("origin"), _str(record.get("origin_identifier")))
            destination = self.destination(record.get("destination"), None)
            result.append(self.association(record, kind, origin, destination,
                                           "document-association", str(index)))
        result.extend(self.derived_associations(seen))
        return result

    def derived_associations(self, seen: set[tuple[str, str, str]]) -> list[dict[str, Any]]:
        """Alignments, progressions and prerequisites written in the YAML but not yet in CASE."""
        result = []
        by_id = {e.extension.get("id"): e for e in self.entries.values()
                 if e.extension.get("role") in ("competency", "target")}
        by_uri = {e.uri: e for e in self.entries.values()}
        wanted: list[tuple[str, _Entry, dict[str, Any]]] = []
        for competency in self.framework.competencies.values():
            holders: list[tuple[Any, Any]] = [(competency, by_id.get(competency.id))]
            holders += [(t, by_id.get(t.id)) for t in competency.targets]
            for obj, entry in holders:
                if entry is None:
                    continue
                for alignment in obj.alignments:
                    # By URI first: a code may be a group's coding scheme that equals an id.
                    internal = by_uri.get(alignment.uri or "") or (
                        by_id.get(alignment.code) if alignment.code else None)
                    if internal is not None:
                        destination = self.link(internal.key)
                    else:
                        code = alignment.code or alignment.uri or ""
                        destination = {"title": code, "identifier": alignment.uri or code,
                                       "uri": alignment.uri or f"urn:case:{code}"}
                    wanted.append((alignment.relation, entry, destination))
        steps: list[tuple[str, str]] = []
        for progression in self.framework.progressions.values():
            steps += list(zip(progression.targets, progression.targets[1:], strict=False))
        for target in self.framework.targets.values():
            steps += [(p, target.id) for p in target.prerequisites]
        for first, second in steps:
            if first in by_id and second in by_id:
                wanted.append(("precedes", by_id[first], self.link(by_id[second].key)))
        for kind, entry, destination in wanted:
            if (kind, entry.identifier, destination["identifier"]) in seen or (
                    kind, entry.identifier, destination["uri"]) in seen:
                continue
            seen.add((kind, entry.identifier, destination["identifier"]))
            result.append(self.association({}, kind, self.link(entry.key), destination, kind,
                                           entry.key, destination["identifier"]))
        return result

    def ordered_entries(self) -> list[_Entry]:
        """Items depth-first from the document: parents before children, siblings in order."""
        children: dict[str | None, list[_Entry]] = {}
        for entry in self.entries.values():
            parent = entry.parent if entry.parent in self.entries else None
            children.setdefault(parent, []).append(entry)
        for group in children.values():
            group.sort(key=lambda e: (_sequence(e), e.order))
        result: list[_Entry] = []
        stack = list(reversed(children.get(None, [])))
        visited: set[str] = set()
        while stack:
            entry = stack.pop()
            if entry.key in visited:
                continue
            visited.add(entry.key)
            result.append(entry)
            stack.extend(reversed(children.get(entry.key, [])))
        # Entries on a parent loop are unreachable from the document: attach them to it.
        for entry in self.entries.values():
            if entry.key not in visited:
                entry.parent = None
                result.append(entry)
        return result

    # -- package ----------------------------------------------------------------------------
    def document(self) -> dict[str, Any]:
        fw = self.framework
        doc = from_yaml_fields(self.case, DOCUMENT_FIELDS)
        identifier, source = self.identity(self.case.get("identifier"), "document")
        self.document_identifier = identifier
        self.document_uri = self.uri_for(self.case.get("uri"), identifier)
        result: dict[str, Any] = {
            "identifier": identifier, "uri": self.document_uri, "caseVersion": "1.1",
            "creator": _str(doc.get("creator")) or self.text(fw.school) or "mastery",
            "title": self.text(fw.title) or fw.id,
            "lastChangeDateTime": self.changed_of(self.case.get("last_change_date_time")),
        }
        if fw.description is not None:
            result["description"] = self.text(fw.description)
        for key, value in doc.items():
            result.setdefault(key, value)
        ours: dict[str, Any] = {"framework_id": fw.id, "languages": list(fw.languages)}
        ours.update(_localized({"title": fw.title}))
        if fw.namespace:
            ours["namespace"] = fw.namespace
        if fw.default_scale_id:
            ours["default_scale"] = fw.default_scale_id
        ours["scales"] = [_scale(s) for s in fw.scales.values()]
        if fw.progressions:
            ours["progressions"] = [
                _compact({"id": p.id, "title": p.title, "description": p.description,
                          "targets": list(p.targets)})
                for p in fw.progressions.values()
            ]
        if source is not None:
            ours["source_identifier"] = source
        extensions = dict(result.get("extensions") or {}) if isinstance(
            result.get("extensions"), dict) else {}
        extensions[EXTENSION_KEY] = ours
        result["extensions"] = extensions
        return case_model.conform(result, "CFPckgDocument")

    def definitions(self) -> dict[str, Any] | None:
        stored = self.case.get("definitions")
        if not isinstance(stored, dict):
            return None
        result: dict[str, Any] = {}
        for name, entries in stored.items():
            cls = case_model.DEFINITION_CLASSES.get(name)
            if cls is None:
                if name == "extensions" and isinstance(entries, dict):
                    result["extensions"] = entries
                continue
            fixed = []
            for index, entry in enumerate(e for e in entries or [] if isinstance(e, dict)):
                obj = self.fixed(entry, cls, name, str(index))
                if not isinstance(obj.get("title"), str):
                    obj["title"] = "Untitled"
                if "hierarchyCode" in case_model.REQUIRED[cls]:
                    obj["hierarchyCode"] = _str(obj.get("hierarchyCode")) or ""
                if "description" in case_model.REQUIRED[cls]:
                    obj["description"] = _str(obj.get("description")) or obj["title"]
                if "licenseText" in case_model.REQUIRED[cls]:
                    obj["licenseText"] = _str(obj.get("licenseText")) or obj["title"]
                fixed.append(case_model.conform(obj, cls))
            result[name] = fixed
        return result

    def fixed(self, entry: dict[str, Any], cls: str, *parts: str) -> dict[str, Any]:
        """A stored definition or rubric object with a valid identifier, URI and timestamp."""
        obj = dict(entry)
        identifier, source = self.identity(obj.get("identifier"), cls, *parts)
        obj["identifier"] = identifier
        obj["uri"] = self.uri_for(obj.get("uri"), identifier)
        obj["lastChangeDateTime"] = self.changed_of(obj.get("lastChangeDateTime"))
        if source is not None:
            if case_model.CLASSES[cls].get("extensions") == "extlist":
                obj["extensions"] = [*(obj.get("extensions") or []),
                                     {EXTENSION_KEY: {"source_identifier": source}}]
            else:
                extensions = dict(obj.get("extensions") or {})
                extensions[EXTENSION_KEY] = {"source_identifier": source}
                obj["extensions"] = extensions
        return obj

    def rubrics(self) -> list[dict[str, Any]]:
        result = []
        for r_index, rubric in enumerate(r for r in self.case.get("rubrics") or []
                                         if isinstance(r, dict)):
            obj = self.fixed(rubric, "CFRubric", str(r_index))
            criteria = []
            for c_index, criterion in enumerate(
                    c for c in rubric.get("CFRubricCriteria") or [] if isinstance(c, dict)):
                crit = self.fixed(criterion, "CFRubricCriterion", str(r_index), str(c_index))
                crit["rubricId"] = obj["identifier"]
                link = crit.get("CFItemURI")
                if isinstance(link, dict) and link.get("identifier") in self.entries:
                    entry = self.entries[str(link["identifier"])]
                    crit["CFItemURI"] = {"title": link.get("title") or entry.identifier,
                                         "identifier": entry.identifier, "uri": entry.uri}
                levels = []
                for l_index, level in enumerate(
                        lv for lv in criterion.get("CFRubricCriterionLevels") or []
                        if isinstance(lv, dict)):
                    fixed = self.fixed(level, "CFRubricCriterionLevel", str(r_index),
                                       str(c_index), str(l_index))
                    fixed["rubricCriterionId"] = crit["identifier"]
                    levels.append(fixed)
                if levels or "CFRubricCriterionLevels" in criterion:
                    crit["CFRubricCriterionLevels"] = levels  # absent stays absent: lossless
                criteria.append(crit)
            obj["CFRubricCriteria"] = criteria
            result.append(case_model.conform(obj, "CFRubric"))
        return result

    def package(self) -> dict[str, Any]:
        document = self.document()
        self.collect()
        document_key = self.case.get("identifier")
        for entry in self.entries.values():
            entry.parent = entry.parent if entry.parent in self.entries else None
            if entry.source_parent == document_key or entry.source_parent not in self.entries:
                entry.source_parent = None
        items = [case_model.conform(e.item, "CFPckgItem") for e in self.ordered_entries()]
        package: dict[str, Any] = {"CFDocument": document, "CFItems": items,
                                   "CFAssociations": self.associations()}
        definitions = self.definitions()
        if definitions:
            package["CFDefinitions"] = definitions
        rubrics = self.rubrics()
        if rubrics:
            package["CFRubrics"] = rubrics
        if isinstance(self.case.get("package_extensions"), dict):
            package["extensions"] = self.case["package_extensions"]
        return package


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _sequence(entry: _Entry) -> float:
    value = entry.child_of.get("sequence") if entry.child_of else None
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else float(
        "inf")


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != [] and v != {}}


def _localized(values: dict[str, Text | None]) -> dict[str, Any]:
    """Per-language texts, which CASE cannot hold in one string, for the extension."""
    return {k: dict(v) for k, v in values.items() if v is not None and not isinstance(v, str)}


def _scale(scale: Scale) -> dict[str, Any]:
    levels = []
    for level in scale.levels:
        value: float | int = int(level.value) if float(level.value).is_integer() else level.value
        levels.append(_compact({
            "value": value, "label": level.label, "short": level.short,
            "descriptor": level.descriptor, "mastery": True if level.mastery else None,
        }))
    return _compact({"id": scale.id, "title": scale.title, "description": scale.description,
                     "levels": levels})


def export_case_package(framework: Framework, options: ExportOptions | None = None
                        ) -> tuple[dict[str, Any], list[Diagnostic]]:
    """The CFPackage for ``framework`` as JSON data, and warnings."""
    exporter = _Exporter(framework, options or ExportOptions())
    return exporter.package(), exporter.diagnostics


def case_package_text(package: dict[str, Any]) -> str:
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"


def check_official_schema(package: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Messages for every way ``package`` fails ``schema`` (formats checked too)."""
    from jsonschema import Draft201909Validator

    validator = Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(package)]

