"""JSON Schema checking of loaded YAML documents, with diagnostics at the offending line.

check-jsonschema reports JSON paths only; here every error is mapped back to the YAML node it
came from, and `oneOf`/`anyOf` failures are reduced to the one alternative that came closest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import cache
from typing import Any

from mastery_cli import numbers_as_text
from mastery_cli.diagnostics import Diagnostic, shortened
from mastery_cli.resources import schema_path
from mastery_cli.schema_refs import resolve
from mastery_cli.suggest import closest
from mastery_cli.yamlfile import Pointer, YamlDocument

#: The kinds of mastery file, each with a schema in ``schemas/KIND.schema.json``.
KINDS = ("framework", "rubric", "policy", "assessment-plan", "learner")

_TYPE_NAMES = {
    "string": "text", "number": "a number", "integer": "a whole number", "boolean": "true or false",
    "array": "a list", "object": "a mapping (key: value pairs)", "null": "nothing",
}


@cache
def load_schema(kind: str) -> dict[str, Any]:
    with schema_path(kind).open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


@cache
def _validator(kind: str) -> Any:
    # Imported here: jsonschema costs ~80 ms at start-up and only files that exist need it.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_without_boolean_subschemas(load_schema(kind)))


#: Keywords whose value is a subschema, a list of them, or a map of names to them.
_ONE_SUBSCHEMA = frozenset({
    "items", "additionalItems", "additionalProperties", "propertyNames", "contains", "not",
    "if", "then", "else", "unevaluatedItems", "unevaluatedProperties", "contentSchema",
})
_OWN_BOOLEAN_MESSAGE = frozenset({
    "additionalProperties", "items", "additionalItems", "unevaluatedItems",
    "unevaluatedProperties",
})
_SUBSCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SUBSCHEMA_MAPS = frozenset({
    "properties", "patternProperties", "$defs", "definitions", "dependentSchemas",
    "dependencies",
})


def _without_boolean_subschemas(schema: Any) -> Any:
    """``schema`` with every ``false`` subschema written ``{"not": {}}`` and ``true`` as ``{}``.

    They mean the same, but jsonschema reports a value that a ``false`` subschema rejects
    without its place and keyword (``properties: {levels: false}`` gives an error at the
    mapping, not at ``levels``); a ``not: {}`` error carries both.
    """
    if schema is False:
        return {"not": {}}
    if schema is True:
        return {}
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _OWN_BOOLEAN_MESSAGE and isinstance(value, bool):
            pass  # "additionalProperties: false" has a keyword and a message of its own
        elif key in _ONE_SUBSCHEMA or (key in _SUBSCHEMA_LISTS and isinstance(value, list)):
            value = ([_without_boolean_subschemas(item) for item in value]
                     if isinstance(value, list) else _without_boolean_subschemas(value))
        elif key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            value = {name: _without_boolean_subschemas(item) for name, item in value.items()}
        result[key] = value
    return result


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {shortened(value)!r}"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _expected(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    if "string" in names:
        # ["string", "number"] is text that may look like a number (numbers_as_text.py)
        names = [name for name in names if name not in ("number", "integer")]
    return " or ".join(_TYPE_NAMES.get(t, t) for t in names)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _rejects_kind(error: Any) -> bool:
    """Whether an alternative's error says the value is the wrong kind of thing altogether.

    ``weight: "0.7"`` in a method mapping is the right kind for the mapping alternative (an
    error inside it) and the wrong kind for the method-name alternative (a ``type`` error at the
    value itself): the mapping alternative is the one the author meant.
    """
    if error.relative_path:
        return False
    if error.validator == "type":
        return True
    if error.validator in ("const", "enum"):
        options = [error.validator_value] if error.validator == "const" else error.validator_value
        kind = _json_type(error.instance)
        return all(_json_type(option) != kind for option in options)
    return False


def _meant_alternative(error: Any) -> list[Any]:
    """The errors of the oneOf/anyOf alternative(s) the value was meant to be, [] if none."""
    by_alternative: dict[Any, list[Any]] = {}
    for sub in error.context:
        by_alternative.setdefault(sub.relative_schema_path[0], []).append(sub)
    meant = [errors for errors in by_alternative.values()
             if not any(_rejects_kind(e) for e in errors)]
    # Several alternatives of the right type: the one that came closest (fewest errors).
    return min(meant, key=len) if meant else []


def _leaves(error: Any) -> Iterator[Any]:
    """For oneOf/anyOf, follow the alternative the value was meant to be down to its errors.

    An alternative whose type the value has is the one meant; its errors are the problems (all
    of them). When the value has the type of no alternative, the oneOf error itself is reported
    (as "expected A or B").
    """
    if (error.validator in ("oneOf", "anyOf") and error.context
            and not all(e.validator == "required" for e in error.context)):
        meant = _meant_alternative(error)
        if meant:
            for sub in meant:
                yield from _leaves(sub)
            return
    yield error


def _is_text_choice(error: Any) -> bool:
    """A oneOf between a string and a map of language code to text that the value is neither."""
    return (
        error.validator == "oneOf"
        and all(_rejects_kind(e) for e in error.context or [])
        and any(isinstance(alternative, dict) and "propertyNames" in alternative
                for alternative in error.validator_value)
    )


def _alternatives(error: Any) -> str:
    """What the alternatives of a oneOf/anyOf accept, in words: "text or a mapping"."""
    names: list[str] = []
    for alternative in error.validator_value:
        if not isinstance(alternative, dict):
            continue
        if "const" in alternative:
            names.append(repr(alternative["const"]))
        elif "enum" in alternative:
            names.extend(repr(option) for option in alternative["enum"])
        elif "type" in alternative:
            names.append(_expected(alternative["type"]))
    return " or ".join(dict.fromkeys(names))


def _diagnostic(document: YamlDocument, error: Any, root: dict[str, Any]) -> Diagnostic:
    pointer: Pointer = tuple(error.absolute_path)
    validator = error.validator
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    where = f" in {'/'.join(str(p) for p in pointer)}" if pointer else ""
    described = _declared_description(root, error)
    if _is_text_choice(error):
        return document.diagnostic(
            "schema-type", f"expected text or a map of language to text, got {_describe(instance)}",
            pointer, hint='write a string, or a map such as {en: "…", es: "…"}',
        )
    if validator in ("anyOf", "oneOf") and error.context and all(
        _rejects_kind(e) for e in error.context
    ) and _alternatives(error):
        return document.diagnostic(
            "schema-type", f"expected {_alternatives(error)}, got {_describe(instance)}",
            pointer, hint=described,
        )
    if validator in ("anyOf", "oneOf") and error.context and all(
        e.validator == "required" for e in error.context
    ):
        names = [n for e in error.context for n in e.validator_value]
        return document.diagnostic(
            "schema-required", f"needs one of: {', '.join(names)}{where}", pointer,
            hint=described, key=True,
        )
    if validator == "required":
        missing = [name for name in error.validator_value if name not in instance]
        name = missing[0] if missing else str(error.validator_value)
        prop = schema.get("properties", {}).get(name, {})
        hint = prop.get("description")
        return document.diagnostic(
            "schema-required", f"missing required key '{name}'{where}", pointer,
            hint=hint, key=True,
        )
    if validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        extras = [k for k in instance if k not in allowed]
        key = extras[0] if extras else "?"
        close = closest(key, allowed)
        hint = f"did you mean '{close[0]}'?" if close else (
            "allowed keys: " + ", ".join(allowed) if allowed else None
        )
        return document.diagnostic(
            "schema-unknown-key", f"unknown key '{shortened(key)}'{where}", (*pointer, key),
            hint=hint, key=True,
        )
    if validator == "type":
        return document.diagnostic(
            "schema-type",
            f"expected {_expected(error.validator_value)}, got {_describe(instance)}",
            pointer, hint=described,
        )
    if validator == "enum":
        options = [str(o) for o in error.validator_value]
        close = closest(str(instance), options)
        return document.diagnostic(
            "schema-enum",
            f"{shortened(str(instance))!r} is not one of: {', '.join(options)}", pointer,
            hint=f"did you mean '{close[0]}'?" if close else described,
        )
    if validator == "const":
        return document.diagnostic(
            "schema-const", f"expected {error.validator_value!r}, got {_describe(instance)}",
            pointer, hint=described,
        )
    if "propertyNames" in error.absolute_schema_path and isinstance(instance, str):
        # jsonschema reports a bad key at its mapping; point at the key itself.
        code = "schema-pattern" if validator == "pattern" else "schema-key-name"
        return document.diagnostic(
            code, f"key {shortened(instance)!r} is not in the expected form{where}",
            (*pointer, instance),
            hint=described, key=True,
        )
    if validator == "pattern":
        return document.diagnostic(
            "schema-pattern", f"{shortened(instance)!r} is not in the expected form{where}",
            pointer,
            hint=described,
        )
    if validator in _LIMITS and isinstance(error.validator_value, int | float):
        return document.diagnostic(
            _code(validator), _limit_message(validator, error.validator_value, instance)
            + where, pointer, hint=described,
        )
    if validator == "uniqueItems" and isinstance(instance, list):
        repeated = _first_repeated(instance)
        return document.diagnostic(
            "schema-unique-items", f"{repeated!r} is listed twice{where}", pointer,
            hint="list every item once",
        )
    if validator == "propertyNames":
        return document.diagnostic(
            "schema-key-name", f"{error.message}{where}", pointer,
            hint=(schema.get("propertyNames") or {}).get("description"),
        )
    if validator == "not" and error.validator_value == {}:
        # A `false` subschema (see _without_boolean_subschemas): nothing may be here.
        return _forbidden(document, pointer)
    if validator == "not" and isinstance(error.validator_value, dict) and set(
        error.validator_value
    ) == {"required"} and error.validator_value["required"]:
        return _forbidden(document, (*pointer, error.validator_value["required"][0]))
    return document.diagnostic(
        _code(validator) if isinstance(validator, str) else "schema-invalid",
        f"{error.message}{where}", pointer, hint=described,
    )


def _forbidden(document: YamlDocument, pointer: Pointer) -> Diagnostic:
    """A key (or list item) the schema does not allow where it is, reported at the key."""
    if not pointer:
        return document.diagnostic("schema-forbidden", "this file's content is not allowed",
                                   pointer)
    *parent, last = pointer
    where = f" in {'/'.join(str(p) for p in parent)}" if parent else ""
    if isinstance(last, int):
        return document.diagnostic(
            "schema-forbidden-item", f"item {last + 1} is not allowed here{where}", pointer,
            hint="remove it",
        )
    return document.diagnostic(
        "schema-forbidden-key", f"'{shortened(str(last))}' is not allowed here{where}", pointer,
        hint=_FORBIDDEN_HINTS.get(str(last), "remove it"), key=True,
    )


_FORBIDDEN_HINTS = {
    "levels": "with design 'indicators' the level language comes from the target's "
    "indicators; use design 'rated' to give criteria their own levels",
}


def _declared_description(root: dict[str, Any], error: Any) -> str | None:
    """The description of the property (or list item) whose value failed, as hover shows it.

    Followed from the root along the error's schema path: the last schema reached by naming a
    property, a list's items or a map's values is where the value is declared. Its own
    description wins over the one of the definition it refers to (``$ref``), and a failing
    ``oneOf`` branch has none of its own. Falls back to the failing schema's description.
    """
    node: Any = root
    declared: str | None = None
    path = list(error.absolute_schema_path)
    for step, part in enumerate(path):
        if part == "$ref" and isinstance(node, dict):
            node = resolve(root, node.get("$ref"))
            continue
        for _ in range(_MAX_REF_CHAIN):  # jsonschema leaves "$ref" out of the path
            if not (isinstance(node, dict) and part not in node and "$ref" in node):
                break
            node = resolve(root, node["$ref"])
        node = _child(node, part)
        if node is None:
            break
        if isinstance(node, dict) and (part in _DECLARING_ONE
                                       or (step and path[step - 1] in _DECLARING_MANY)):
            declared = node.get("description") or _resolved_description(root, node)
    if declared:
        return declared
    schema = error.schema if isinstance(error.schema, dict) else {}
    description = schema.get("description")
    return description if isinstance(description, str) else None


#: How many "$ref"s in a row are followed (a reference to itself must not loop).
_MAX_REF_CHAIN = 16

#: Keywords that declare what the values at a place are: one subschema, or a map of them.
_DECLARING_ONE = frozenset({"items", "additionalProperties", "propertyNames"})
_DECLARING_MANY = frozenset({"properties", "patternProperties"})


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _resolved_description(root: dict[str, Any], node: dict[str, Any]) -> str | None:
    target = resolve(root, node.get("$ref"))
    description = target.get("description") if isinstance(target, dict) else None
    return description if isinstance(description, str) else None


_LIMITS = {
    "minItems": ("at least", "item"), "maxItems": ("at most", "item"),
    "minLength": ("at least", "character"), "maxLength": ("at most", "character"),
    "minProperties": ("at least", "entry"), "maxProperties": ("at most", "entry"),
    "minimum": ("at least", ""), "maximum": ("at most", ""),
    "exclusiveMinimum": ("more than", ""), "exclusiveMaximum": ("less than", ""),
}


def _code(validator: str) -> str:
    """The stable code of a schema keyword: ``minItems`` -> ``schema-min-items``."""
    return "schema-" + "".join("-" + c.lower() if c.isupper() else c for c in validator)


def _limit_message(validator: str, limit: float, instance: Any) -> str:
    bound, unit = _LIMITS[validator]
    if not unit:
        return f"must be {bound} {limit:g}, got {_describe(instance)}"
    count = len(instance) if isinstance(instance, list | str | dict) else 0
    plural = {"entry": "entries"}.get(unit, unit + "s")
    needed = f"{limit:g} {unit if limit == 1 else plural}"
    have = f"{count} {unit if count == 1 else plural}" if count else "none"
    what = {"item": "list", "character": "text", "entry": "mapping"}[unit]
    return f"the {what} needs {bound} {needed}, has {have}"


def _first_repeated(items: list[Any]) -> Any:
    seen: list[Any] = []
    for item in items:
        if item in seen:
            return item
        seen.append(item)
    return None


@cache
def _quick_validator(kind: str) -> Any:
    # jsonschema-rs costs about a quarter of jsonschema's import time (with referencing and
    # rpds; benchmarks/README.md): most files people validate are valid, and for them the
    # yes/no answer is all we need.
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(load_schema(kind), validate_formats=False)


def certainly_valid(data: Any, kind: str) -> bool:
    """jsonschema-rs's verdict: True only when ``data`` is valid against the schema of ``kind``.

    False means "ask jsonschema", which gives the diagnostics (and reads YAML scalars back as
    text where the schema wants text): values JSON has no type for (a YAML date) are not valid
    here, and pattern anchors are stricter than Python's ``re``, never looser.
    """
    try:
        return bool(_quick_validator(kind).is_valid(data))
    except (ValueError, TypeError, OverflowError):  # a value it cannot convert: ask jsonschema
        return False


def check_document(document: YamlDocument, kind: str) -> list[Diagnostic]:
    """Validate ``document.data`` against the schema of ``kind``.

    First turns numbers written where the file holds text into that text (``id: 101``; see
    numbers_as_text.py), whether or not anything else is wrong, so every reader sees text.
    """
    schema = load_schema(kind)
    numbers_as_text.convert(document, schema)
    if certainly_valid(document.data, kind):
        # Certainly valid: no need to import jsonschema.
        return []
    diagnostics = explain_errors(document, _validator(kind).iter_errors(document.data), schema)
    if kind in PRIVATE_KINDS:
        diagnostics = [_without_values(d) for d in diagnostics]
    return diagnostics


def check_against(document: YamlDocument, schema: dict[str, Any]) -> list[Diagnostic]:
    """Validate ``document.data`` against any JSON Schema (Draft 2020-12), as check_document."""
    from jsonschema import Draft202012Validator

    numbers_as_text.convert(document, schema)
    validator = Draft202012Validator(_without_boolean_subschemas(schema))
    return explain_errors(document, validator.iter_errors(document.data), schema)


def explain_errors(
    document: YamlDocument, errors: Iterable[Any], schema: dict[str, Any]
) -> list[Diagnostic]:
    """One diagnostic for each problem jsonschema found, at its line in the YAML file."""
    return [_diagnostic(document, leaf, schema) for error in errors for leaf in _leaves(error)]


#: Kinds of file holding personal data: their diagnostics never repeat a value from the file.
PRIVATE_KINDS = ("learner",)
_ECHOES = (
    (re.compile(r"got the text '.*'$", re.DOTALL), "got text"),
    (re.compile(r"^'.*' is not (one of|in the expected form)", re.DOTALL), r"the value is not \1"),
    (re.compile(r"^.* is listed twice", re.DOTALL), "an entry is listed twice"),
)


def _without_values(diagnostic: Diagnostic) -> Diagnostic:
    message = diagnostic.message
    for pattern, replacement in _ECHOES:
        message = pattern.sub(replacement, message)
    return replace(diagnostic, message=message)
