"""Names of CASE properties in our YAML (snake_case under ``case:``) and back.

The YAML keeps every CASE property of an imported object, so that exporting again loses
nothing; these tables are the one place that says which YAML key holds which CASE property.
"""

from __future__ import annotations

from typing import Any

from mastery_cli.interop.case_model import CLASSES, KNOWN_ALIASES, coerce

ITEM_FIELDS = {
    "identifier": "identifier",
    "uri": "uri",
    "CFItemType": "item_type",
    "humanCodingScheme": "human_coding_scheme",
    "alternativeLabel": "alternative_label",
    "listEnumeration": "list_enumeration",
    "conceptKeywords": "concept_keywords",
    "conceptKeywordsURI": "concept_keywords_uri",
    "notes": "notes",
    "subject": "subject",
    "subjectURI": "subject_uri",
    "language": "language",
    "educationLevel": "education_level",
    "CFItemTypeURI": "item_type_uri",
    "licenseURI": "license_uri",
    "statusStartDate": "status_start_date",
    "statusEndDate": "status_end_date",
    "lastChangeDateTime": "last_change_date_time",
    "extensions": "extensions",
}
#: Item properties that live elsewhere in the YAML (statement, title), not under ``case``.
ITEM_TEXT = ("fullStatement", "abbreviatedStatement")

DOCUMENT_FIELDS = {
    "identifier": "identifier",
    "uri": "uri",
    "frameworkType": "framework_type",
    "caseVersion": "case_version",
    "creator": "creator",
    "publisher": "publisher",
    "officialSourceURL": "official_source_url",
    "subject": "subject",
    "subjectURI": "subject_uri",
    "language": "language",
    "version": "version",
    "adoptionStatus": "adoption_status",
    "statusStartDate": "status_start_date",
    "statusEndDate": "status_end_date",
    "licenseURI": "license_uri",
    "notes": "notes",
    "lastChangeDateTime": "last_change_date_time",
    "extensions": "extensions",
}
DOCUMENT_TEXT = ("title", "description")

ASSOCIATION_FIELDS = {
    "identifier": "identifier",
    "uri": "uri",
    "associationType": "type",
    "sequenceNumber": "sequence",
    "CFAssociationGroupingURI": "grouping",
    "notes": "notes",
    "lastChangeDateTime": "last_change_date_time",
    "extensions": "extensions",
}
#: Association properties stored separately (the ends of the association).
ASSOCIATION_ENDS = ("originNodeURI", "destinationNodeURI")

#: Extension key under which mastery keeps what CASE has no property for.
EXTENSION_KEY = "mastery"


def to_yaml_fields(obj: dict[str, Any], table: dict[str, str], cls: str,
                   skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """CASE properties renamed for the YAML, in the table's order.

    A value of the wrong shape is stored coerced when its meaning is clear (a date-time
    without zone, a sequence number written as text); otherwise it is kept verbatim, with
    every property CASE does not know, under ``source_fields``. Export writes those into
    ``extensions.sourceFields``, which a later import reads back here, so that importing an
    export gives the same YAML as importing the original.
    """
    kinds = CLASSES[cls]
    found: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    for name, value in obj.items():
        if name in skip or value is None:
            continue
        alias = KNOWN_ALIASES.get(name)
        if alias is not None and alias not in obj:
            converted = coerce(value, kinds[alias])
            if converted is not None:
                found[alias] = converted
                continue
        if name not in table:
            unknown[name] = value
            continue
        kind = kinds.get(name, "ext")
        if kind in ("ext", "extlist") or (kind == "uuid" and isinstance(value, str)):
            converted = value  # any identifier is kept as the publisher wrote it
        else:
            converted = coerce(value, kind)
        if converted is None:
            unknown[name] = value
        else:
            found[name] = converted
    extensions = found.get("extensions")
    if isinstance(extensions, dict) and isinstance(extensions.get("sourceFields"), dict):
        for name, value in extensions["sourceFields"].items():
            unknown.setdefault(name, value)
        rest = {k: v for k, v in extensions.items() if k != "sourceFields"}
        if rest:
            found["extensions"] = rest
        else:
            del found["extensions"]
    result = {table[name]: found[name] for name in table if name in found}
    if unknown:
        result["source_fields"] = unknown
    return result


def from_yaml_fields(data: dict[str, Any], table: dict[str, str]) -> dict[str, Any]:
    """The reverse of ``to_yaml_fields``: CASE property names, unknown fields merged back."""
    reverse = {snake: camel for camel, snake in table.items()}
    result: dict[str, Any] = {}
    for key, value in data.items():
        if key in reverse and value is not None:
            result[reverse[key]] = value
    source = data.get("source_fields")
    if isinstance(source, dict):
        for key, value in source.items():
            result.setdefault(key, value)
    return result
