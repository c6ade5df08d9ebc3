"""The CASE 1.1 package classes as data: their properties, types and required ones.

One table serves both directions. Importing, ``deviations`` lists every way an object differs
from CASE 1.1 (each becomes a warning; the import goes on). Exporting, ``conform`` turns an
object into one the official JSON Schema accepts: values of the wrong shape are coerced where
the meaning is clear, and anything CASE has no property for moves into ``extensions``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mastery_cli.diagnostics import shortened
from mastery_cli.interop.case_ids import is_uuid, normalize_date_time
from mastery_cli.yamlfile import MAX_NUMBER_DIGITS

ASSOCIATION_TYPES = (
    "isChildOf", "isPeerOf", "isPartOf", "exactMatchOf", "precedes", "isRelatedTo",
    "replacedBy", "exemplar", "hasSkillLevel", "isTranslationOf",
)

# Property kinds: str, int, num, uuid, datetime, date, strlist, link, linklist, genlink,
# assoctype, ext (an object), extlist (a list of objects), and "list:<Class>".
CLASSES: dict[str, dict[str, str]] = {
    "CFPckgDocument": {
        "identifier": "uuid", "uri": "str", "frameworkType": "str", "caseVersion": "str",
        "creator": "str", "title": "str", "lastChangeDateTime": "datetime",
        "officialSourceURL": "str", "publisher": "str", "description": "str",
        "subject": "strlist", "subjectURI": "linklist", "language": "str", "version": "str",
        "adoptionStatus": "str", "statusStartDate": "date", "statusEndDate": "date",
        "licenseURI": "link", "notes": "str", "extensions": "ext",
    },
    "CFPckgItem": {
        "identifier": "uuid", "fullStatement": "str", "alternativeLabel": "str",
        "CFItemType": "str", "uri": "str", "humanCodingScheme": "str", "listEnumeration": "str",
        "abbreviatedStatement": "str", "conceptKeywords": "strlist",
        "conceptKeywordsURI": "link", "notes": "str", "subject": "strlist",
        "subjectURI": "linklist", "language": "str", "educationLevel": "strlist",
        "CFItemTypeURI": "link", "licenseURI": "link", "statusStartDate": "date",
        "statusEndDate": "date", "lastChangeDateTime": "datetime", "extensions": "ext",
    },
    "CFPckgAssociation": {
        "identifier": "uuid", "associationType": "assoctype", "sequenceNumber": "int",
        "uri": "str", "originNodeURI": "genlink", "destinationNodeURI": "genlink",
        "CFAssociationGroupingURI": "link", "lastChangeDateTime": "datetime", "notes": "str",
        "extensions": "ext",
    },
    "CFItemType": {
        "identifier": "uuid", "uri": "str", "title": "str", "description": "str",
        "hierarchyCode": "str", "typeCode": "str", "lastChangeDateTime": "datetime",
        "extensions": "ext",
    },
    "CFSubject": {
        "identifier": "uuid", "uri": "str", "title": "str", "hierarchyCode": "str",
        "description": "str", "lastChangeDateTime": "datetime", "extensions": "ext",
    },
    "CFConcept": {
        "identifier": "uuid", "uri": "str", "title": "str", "keywords": "str",
        "hierarchyCode": "str", "description": "str", "lastChangeDateTime": "datetime",
        "extensions": "ext",
    },
    "CFAssociationGrouping": {
        "identifier": "uuid", "uri": "str", "title": "str", "description": "str",
        "lastChangeDateTime": "datetime", "extensions": "ext",
    },
    "CFLicense": {
        "identifier": "uuid", "uri": "str", "title": "str", "description": "str",
        "licenseText": "str", "lastChangeDateTime": "datetime", "extensions": "ext",
    },
    "CFRubric": {
        "identifier": "uuid", "uri": "str", "title": "str", "description": "str",
        "lastChangeDateTime": "datetime", "CFRubricCriteria": "list:CFRubricCriterion",
        "extensions": "ext",
    },
    "CFRubricCriterion": {
        "identifier": "uuid", "uri": "str", "category": "str", "description": "str",
        "CFItemURI": "link", "weight": "num", "position": "int", "rubricId": "uuid",
        "lastChangeDateTime": "datetime",
        "CFRubricCriterionLevels": "list:CFRubricCriterionLevel", "extensions": "ext",
    },
    "CFRubricCriterionLevel": {
        "identifier": "uuid", "uri": "str", "description": "str", "quality": "str",
        "score": "num", "feedback": "str", "position": "int", "rubricCriterionId": "uuid",
        "lastChangeDateTime": "datetime", "extensions": "extlist",
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "CFPckgDocument": ("identifier", "uri", "creator", "title", "lastChangeDateTime"),
    "CFPckgItem": ("identifier", "fullStatement", "uri", "lastChangeDateTime"),
    "CFPckgAssociation": ("identifier", "associationType", "uri", "originNodeURI",
                          "destinationNodeURI", "lastChangeDateTime"),
    "CFItemType": ("identifier", "uri", "title", "description", "hierarchyCode",
                   "lastChangeDateTime"),
    "CFSubject": ("identifier", "uri", "title", "hierarchyCode", "lastChangeDateTime"),
    "CFConcept": ("identifier", "uri", "title", "hierarchyCode", "lastChangeDateTime"),
    "CFAssociationGrouping": ("identifier", "uri", "title", "lastChangeDateTime"),
    "CFLicense": ("identifier", "uri", "title", "licenseText", "lastChangeDateTime"),
    "CFRubric": ("identifier", "uri", "lastChangeDateTime"),
    "CFRubricCriterion": ("identifier", "uri", "lastChangeDateTime"),
    "CFRubricCriterionLevel": ("identifier", "uri", "lastChangeDateTime"),
}

DEFINITION_CLASSES = {
    "CFConcepts": "CFConcept", "CFSubjects": "CFSubject", "CFLicenses": "CFLicense",
    "CFItemTypes": "CFItemType", "CFAssociationGroupings": "CFAssociationGrouping",
}
#: Properties OpenSALT and older drafts wrote under another name, and what CASE 1.1 calls them.
KNOWN_ALIASES = {"educationalLevel": "educationLevel"}


@dataclass(frozen=True)
class Deviation:
    pointer: str
    message: str


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_link(value: Any, *, generic: bool = False) -> bool:
    if not isinstance(value, dict):
        return False
    keys = {"title", "identifier", "uri"} | ({"targetType"} if generic else set())
    return (
        all(isinstance(value.get(k), str) for k in ("title", "identifier", "uri"))
        and set(value) <= keys
        and (generic or is_uuid(value.get("identifier")))
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_assoc_type(value: Any) -> bool:
    return isinstance(value, str) and (value in ASSOCIATION_TYPES or (
        value.startswith("ext:") and len(value) > 4))


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "str": _is_str,
    "int": _is_int,
    "num": _is_num,
    "uuid": is_uuid,
    "datetime": lambda v: isinstance(v, str) and normalize_date_time(v) == (v, False),
    "date": lambda v: isinstance(v, str) and len(v) == 10 and v[4] == "-" and v[7] == "-",
    "strlist": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "link": _is_link,
    "linklist": lambda v: isinstance(v, list) and all(_is_link(x) for x in v),
    "genlink": lambda v: _is_link(v, generic=True),
    "assoctype": _is_assoc_type,
    "ext": lambda v: isinstance(v, dict),
    "extlist": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
}

_EXPECTED = {
    "str": "a string", "int": "an integer", "num": "a number",
    "uuid": "a lower-case UUID", "datetime": "a date-time with a time zone",
    "date": "a date (YYYY-MM-DD)", "strlist": "a list of strings",
    "link": "a link {title, identifier (UUID), uri}", "linklist": "a list of links",
    "genlink": "a link {title, identifier, uri}", "assoctype": "a CASE association type",
    "ext": "an object", "extlist": "a list of objects",
}


def escape(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def deviations(obj: Any, cls: str, pointer: str) -> Iterator[Deviation]:
    """Every way ``obj`` differs from the CASE 1.1 class ``cls``, with JSON pointers."""
    if not isinstance(obj, dict):
        yield Deviation(pointer, f"a {cls} must be an object")
        return
    props = CLASSES[cls]
    for name in REQUIRED[cls]:
        if obj.get(name) is None:
            yield Deviation(f"{pointer}/{escape(name)}", f"{cls} has no '{name}' (required)")
    for name, value in obj.items():
        where = f"{pointer}/{escape(name)}"
        kind = props.get(name)
        if kind is None:
            alias = KNOWN_ALIASES.get(name)
            hint = f" (CASE 1.1 calls it '{alias}')" if alias else ""
            yield Deviation(where, f"'{shortened(name)}' is not a {cls} property{hint}")
        elif value is None:
            if name not in REQUIRED[cls]:
                yield Deviation(where, f"'{name}' is null")
        elif kind.startswith("list:"):
            if not isinstance(value, list):
                yield Deviation(where, f"'{name}' should be a list")
                continue
            for index, child in enumerate(value):
                yield from deviations(child, kind[5:], f"{where}/{index}")
        elif not _CHECKS[kind](value):
            yield Deviation(where, f"'{name}' should be {_EXPECTED[kind]}, not {_describe(value)}")


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"'{shortened(value, 60)}'"
    return type(value).__name__


def coerce(value: Any, kind: str) -> Any:
    """``value`` turned into ``kind`` when the meaning is clear, else None."""
    if value is None:
        return None
    if _CHECKS.get(kind, lambda v: False)(value):
        return value
    if kind in ("str",) and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if kind == "int" and isinstance(value, str):
        digits = value.strip().removeprefix("-")
        # isdigit() alone takes '²', and int() refuses more than 4,300 digits
        if digits.isascii() and digits.isdigit() and len(digits) <= MAX_NUMBER_DIGITS:
            return int(value.strip())
        return None
    if kind == "num" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    if kind == "datetime" and isinstance(value, str):
        return normalize_date_time(value)[0]
    if kind == "strlist":
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(x, str | int | float) for x in value):
            return [str(x) for x in value]
    return None


def conform(obj: dict[str, Any], cls: str) -> dict[str, Any]:
    """``obj`` with only the properties ``cls`` has, in valid shapes; the rest in extensions.

    The caller makes sure identifiers, URIs and timestamps are present (they need context).
    """
    props = CLASSES[cls]
    result: dict[str, Any] = {}
    leftovers: dict[str, Any] = {}
    for name, value in obj.items():
        kind = props.get(name) or props.get(KNOWN_ALIASES.get(name, ""))
        target = name if name in props else KNOWN_ALIASES.get(name, name)
        if value is None:
            continue
        if kind is None or kind in ("ext", "extlist"):
            if kind is None:
                leftovers[name] = value
            continue
        if kind.startswith("list:"):
            if isinstance(value, list):
                result[target] = [conform(c, kind[5:]) for c in value if isinstance(c, dict)]
            continue
        converted = coerce(value, kind)
        if converted is None or target in result:
            leftovers[name] = value
        else:
            result[target] = converted
    order = list(props)
    result = dict(sorted(result.items(), key=lambda kv: order.index(kv[0])))
    extension = obj.get("extensions")
    if props.get("extensions") == "extlist":
        items = [e for e in extension if isinstance(e, dict)] if isinstance(extension, list) else []
        if leftovers:
            items.append({"sourceFields": leftovers})
        if items:
            result["extensions"] = items
    else:
        merged = dict(extension) if isinstance(extension, dict) else {}
        if leftovers:
            merged["sourceFields"] = {**(merged.get("sourceFields") or {}), **leftovers}
        if merged:
            result["extensions"] = dict(sorted(merged.items()))
    return result
