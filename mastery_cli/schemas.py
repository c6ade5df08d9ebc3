"""JSON Schema checking of loaded YAML documents, with diagnostics at the offending line.

check-jsonschema reports JSON paths only; here every error is mapped back to the YAML node it
came from, and `oneOf`/`anyOf` failures are reduced to the one alternative that came closest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import cache
from typing import Any

from mastery_cli.diagnostics import Diagnostic, shortened
from mastery_cli.resources import schema_path
from mastery_cli.suggest import closest
from mastery_cli.yamlfile import Pointer, YamlDocument, coerce_pointer_values

#: The kinds of mastery file, each with a schema in ``schemas/KIND.schema.json``.
KINDS = ("framework", "rubric", "policy", "learner")

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

    return Draft202012Validator(load_schema(kind))


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


def _diagnostic(document: YamlDocument, error: Any) -> Diagnostic:
    pointer: Pointer = tuple(error.absolute_path)
    validator = error.validator
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    where = f" in {'/'.join(str(p) for p in pointer)}" if pointer else ""
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
            pointer, hint=schema.get("description"),
        )
    if validator in ("anyOf", "oneOf") and error.context and all(
        e.validator == "required" for e in error.context
    ):
        names = [n for e in error.context for n in e.validator_value]
        return document.diagnostic(
            "schema-required", f"needs one of: {', '.join(names)}{where}", pointer,
            hint=schema.get("description"), key=True,
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
            pointer, hint=schema.get("description"),
        )
    if validator == "enum":
        options = [str(o) for o in error.validator_value]
        close = closest(str(instance), options)
        return document.diagnostic(
            "schema-enum",
            f"{shortened(str(instance))!r} is not one of: {', '.join(options)}", pointer,
            hint=f"did you mean '{close[0]}'?" if close else schema.get("description"),
        )
    if validator == "const":
        return document.diagnostic(
            "schema-const", f"expected {error.validator_value!r}, got {_describe(instance)}",
            pointer, hint=schema.get("description"),
        )
    if "propertyNames" in error.absolute_schema_path and isinstance(instance, str):
        # jsonschema reports a bad key at its mapping; point at the key itself.
        code = "schema-pattern" if validator == "pattern" else "schema-key-name"
        return document.diagnostic(
            code, f"key {shortened(instance)!r} is not in the expected form{where}",
            (*pointer, instance),
            hint=schema.get("description"), key=True,
        )
    if validator == "pattern":
        return document.diagnostic(
            "schema-pattern", f"{shortened(instance)!r} is not in the expected form{where}",
            pointer,
            hint=schema.get("description"),
        )
    if validator in _LIMITS and isinstance(error.validator_value, int | float):
        return document.diagnostic(
            _code(validator), _limit_message(validator, error.validator_value, instance)
            + where, pointer, hint=schema.get("description"),
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
    if validator == "not" and isinstance(error.validator_value, dict):
        forbidden = error.validator_value.get("required", [])
        key = forbidden[0] if forbidden else ""
        return document.diagnostic(
            "schema-forbidden-key", f"'{key}' is not allowed here{where}", (*pointer, key),
            hint="with design 'indicators' the level language comes from the target's "
            "indicators; use design 'rated' to give criteria their own levels"
            if key == "levels" else None,
            key=True,
        )
    return document.diagnostic(_code(validator), f"{error.message}{where}", pointer,
                               hint=schema.get("description"))


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


def _coercible(error: Any) -> bool:
    """A plain YAML scalar where the schema wants text: the author wrote text."""
    if isinstance(error.instance, bool | int | float) and error.instance is not None:
        if error.validator == "type":
            return "string" in ([error.validator_value] if isinstance(error.validator_value, str)
                                else error.validator_value)
        if error.validator == "oneOf" and error.context:
            return any(e.validator == "type" and "string" in (
                [e.validator_value] if isinstance(e.validator_value, str) else e.validator_value
            ) for e in error.context)
    return False


@cache
def _quick_check(kind: str) -> Callable[[Any], bool] | None:
    from mastery_cli.validation.fastschema import compile_schema

    return compile_schema(load_schema(kind))


def check_document(document: YamlDocument, kind: str) -> list[Diagnostic]:
    """Validate ``document.data`` against the schema of ``kind``; may normalise scalars."""
    quick = _quick_check(kind)
    if quick is not None and quick(document.data):
        # Certainly valid: no need to import jsonschema (see validation/fastschema.py).
        return []
    validator = _validator(kind)
    for _ in range(3):
        errors = list(validator.iter_errors(document.data))
        fixable = [tuple(e.absolute_path) for e in errors if _coercible(e)]
        if not fixable or not coerce_pointer_values(document, fixable):
            break
    diagnostics: list[Diagnostic] = []
    for error in errors:
        for leaf in _leaves(error):
            diagnostics.append(_diagnostic(document, leaf))
    if kind in PRIVATE_KINDS:
        diagnostics = [_without_values(d) for d in diagnostics]
    return diagnostics


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
