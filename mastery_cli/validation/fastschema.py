"""A quick yes/no JSON Schema check that lets valid files skip importing ``jsonschema``.

Importing ``jsonschema`` (with ``referencing`` and ``rpds``) costs ~70 ms, more than everything
else ``mastery validate`` does on a small file. Most files people validate are valid, so the
schema is compiled here into plain Python closures that answer one question: *is this document
certainly valid?* When the answer is yes, nothing else is needed. When it is no, or when the
schema or the data uses anything this module does not model exactly, ``jsonschema`` runs as
before and produces the diagnostics. So a "valid" verdict here is the only claim this module
makes, and it is the same verdict ``jsonschema``'s Draft 2020-12 validator gives (without a
format checker, i.e. ``format`` is an annotation); tests compare the two on random documents.

Anything uncertain raises ``_Unsure`` while compiling (an unknown keyword, a remote ``$ref``)
or while checking (an ``integer`` that is a float, ``const`` of a list), which means "ask
jsonschema".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

#: Keywords that never affect validity (Draft 2020-12 annotations; ``format`` is one too while
#: no format checker is enabled, which is how ``mastery_cli.schemas`` runs jsonschema).
_ANNOTATIONS = frozenset({
    "$schema", "$id", "$comment", "$defs", "title", "description", "examples", "default",
    "deprecated", "readOnly", "writeOnly", "format", "contentMediaType", "contentEncoding",
    "contentSchema", "markdownDescription", "x-intellij-html-description",
})


#: Object keywords checked together in one pass (see ``_Compiler.object_check``).
_OBJECT_KEYWORDS = frozenset({"properties", "required", "additionalProperties"})


class _Unsure(Exception):
    """This module cannot decide exactly; the caller must ask jsonschema."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _type_test(name: str) -> Check:
    if name == "string":
        return lambda v: isinstance(v, str)
    if name == "object":
        return lambda v: isinstance(v, dict)
    if name == "array":
        return lambda v: isinstance(v, list)
    if name == "boolean":
        return lambda v: isinstance(v, bool)
    if name == "null":
        return lambda v: v is None
    if name == "number":
        return _is_number
    if name == "integer":
        def is_integer(value: Any) -> bool:
            if isinstance(value, float):
                raise _Unsure  # jsonschema's rule for 1.0 is subtle; let it decide
            return isinstance(value, int) and not isinstance(value, bool)
        return is_integer
    raise _Unsure


def _scalar_equal(expected: Any) -> Check:
    """JSON Schema equality against a string, a (non-bool) int, a bool or null."""
    if isinstance(expected, str):
        return lambda v: isinstance(v, str) and v == expected
    if isinstance(expected, bool):
        return lambda v: v is expected
    if expected is None:
        return lambda v: v is None
    if isinstance(expected, int):
        def equal_int(value: Any) -> bool:
            if isinstance(value, float):
                raise _Unsure
            return isinstance(value, int) and not isinstance(value, bool) and value == expected
        return equal_int
    raise _Unsure


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]

    def every(value: Any) -> bool:
        for check in checks:  # noqa: SIM110 - a plain loop is ~2x faster than all(generator)
            if not check(value):
                return False
        return True

    return every


class _Compiler:
    def __init__(self, root: Mapping[str, Any]):
        self.root = root
        self.refs: dict[str, Check] = {}
        self.cells: dict[str, list[Check]] = {}

    def ref(self, ref: str) -> Check:
        if ref in self.refs:
            return self.refs[ref]
        if ref in self.cells:  # a recursive schema: refer to itself through a cell
            cell = self.cells[ref]
            return lambda v: cell[0](v)
        if ref != "#" and not ref.startswith("#/"):
            raise _Unsure
        target: Any = self.root
        for part in ref[2:].split("/") if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                raise _Unsure
            target = target[part]
        self.cells[ref] = []
        compiled = self.compile(target)
        self.cells[ref].append(compiled)
        self.refs[ref] = compiled
        return compiled

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, Mapping):
            raise _Unsure
        if "$id" in schema and schema is not self.root:
            raise _Unsure  # a new base URI would change how $ref resolves
        checks: list[Check] = []
        fused = _OBJECT_KEYWORDS if "patternProperties" not in schema else frozenset()
        if fused & schema.keys():
            checks.append(self.object_check(schema))
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or keyword in fused:
                continue
            checks.append(self.keyword(keyword, value, schema))
        return _all_of(checks)

    def object_check(self, schema: Mapping[str, Any]) -> Check:
        """properties, additionalProperties and required in one pass over the mapping."""
        properties = {name: self.compile(sub) for name, sub in
                      schema.get("properties", {}).items()}
        required = list(schema.get("required", []))
        additional = schema.get("additionalProperties", True)
        extra: Check | None = None if additional is True or additional is False else (
            self.compile(additional)
        )
        closed = additional is False

        def check_object(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for key, item in value.items():
                check = properties.get(key)
                if check is not None:
                    if not check(item):
                        return False
                elif closed or (extra is not None and not extra(item)):
                    return False
            for name in required:  # noqa: SIM110 - hot path, see _all_of
                if name not in value:
                    return False
            return True

        return check_object

    def keyword(self, keyword: str, value: Any, schema: Mapping[str, Any]) -> Check:
        if keyword == "type":
            tests = [_type_test(t) for t in ([value] if isinstance(value, str) else value)]
            if len(tests) == 1:
                return tests[0]
            return lambda v: any(test(v) for test in tests)
        if keyword == "const":
            return _scalar_equal(value)
        if keyword == "enum":
            if value and all(isinstance(option, str) for option in value):
                words = frozenset(value)
                return lambda v: isinstance(v, str) and v in words
            options = [_scalar_equal(option) for option in value]
            return lambda v: any(option(v) for option in options)
        if keyword == "pattern":
            regex = re.compile(value)
            return lambda v: not isinstance(v, str) or regex.search(v) is not None
        if keyword in ("minLength", "maxLength"):
            return _bound(value, keyword.startswith("min"), lambda v: isinstance(v, str))
        if keyword in ("minItems", "maxItems"):
            return _bound(value, keyword.startswith("min"), lambda v: isinstance(v, list))
        if keyword in ("minProperties", "maxProperties"):
            return _bound(value, keyword.startswith("min"), lambda v: isinstance(v, dict))
        if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            return _numeric_limit(keyword, value)
        if keyword == "uniqueItems":
            return _unique if value else (lambda v: True)
        if keyword == "required":
            names = list(value)
            return lambda v: not isinstance(v, dict) or all(name in v for name in names)
        if keyword == "items":
            if "prefixItems" in schema:
                raise _Unsure
            return _items(self.compile(value))
        if keyword == "patternProperties":
            patterns = [(re.compile(p), self.compile(sub)) for p, sub in value.items()]
            return lambda v: not isinstance(v, dict) or all(
                check(item) for key, item in v.items() for regex, check in patterns
                if regex.search(key)
            )
        if keyword == "additionalProperties":  # only here next to patternProperties
            return self.additional(value, schema)
        if keyword in ("properties", "required"):
            return self.object_check({keyword: value})
        if keyword == "propertyNames":
            key_check = self.compile(value)
            return lambda v: not isinstance(v, dict) or all(key_check(key) for key in v)
        if keyword == "allOf":
            parts = [self.compile(sub) for sub in value]
            return lambda v: all(part(v) for part in parts)
        if keyword == "anyOf":
            parts = [self.compile(sub) for sub in value]
            return lambda v: any(part(v) for part in parts)
        if keyword == "oneOf":
            return _one_of([self.compile(sub) for sub in value])
        if keyword == "not":
            inner = self.compile(value)
            return lambda v: not inner(v)
        if keyword == "if":
            condition = self.compile(value)
            then = self.compile(schema.get("then", True))
            otherwise = self.compile(schema.get("else", True))
            return lambda v: then(v) if condition(v) else otherwise(v)
        if keyword in ("then", "else"):
            return lambda v: True  # evaluated with "if"; without "if" they do nothing
        if keyword == "$ref":
            return self.ref(value)
        raise _Unsure

    def additional(self, value: Any, schema: Mapping[str, Any]) -> Check:
        known = set(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]

        def extras(v: dict[str, Any]) -> list[str]:
            return [k for k in v if k not in known and not any(p.search(k) for p in patterns)]

        if value is False:
            return lambda v: not isinstance(v, dict) or not extras(v)
        if value is True:
            return lambda v: True
        check = self.compile(value)
        return lambda v: not isinstance(v, dict) or all(check(v[k]) for k in extras(v))


def _items(item: Check) -> Check:
    def check_items(value: Any) -> bool:
        if not isinstance(value, list):
            return True
        for element in value:  # noqa: SIM110 - hot path, see _all_of
            if not item(element):
                return False
        return True

    return check_items


def _one_of(parts: list[Check]) -> Check:
    def exactly_one(value: Any) -> bool:
        matched = 0
        for part in parts:
            if part(value):
                matched += 1
        return matched == 1

    return exactly_one


def _bound(limit: Any, minimum: bool, applies: Check) -> Check:
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise _Unsure
    if minimum:
        return lambda v: not applies(v) or len(v) >= limit
    return lambda v: not applies(v) or len(v) <= limit


def _numeric_limit(keyword: str, limit: Any) -> Check:
    if not _is_number(limit):
        raise _Unsure
    compare: Callable[[Any], bool] = {
        "minimum": lambda v: not v < limit,
        "maximum": lambda v: not v > limit,
        "exclusiveMinimum": lambda v: not v <= limit,
        "exclusiveMaximum": lambda v: not v >= limit,
    }[keyword]
    return lambda v: not _is_number(v) or compare(v)


def _unique(value: Any) -> bool:
    if not isinstance(value, list):
        return True
    if all(isinstance(item, str) for item in value):
        return len(set(value)) == len(value)
    raise _Unsure  # JSON equality of mixed values (1 == 1.0, True != 1) is jsonschema's job


def compile_schema(schema: Mapping[str, Any]) -> Check | None:
    """A function telling whether a document is certainly valid, or None if not compilable."""
    try:
        check = _Compiler(schema).compile(schema)
    except (_Unsure, re.error, TypeError, AttributeError):
        return None

    def certainly_valid(document: Any) -> bool:
        try:
            return check(document)
        except (_Unsure, RecursionError):
            return False

    return certainly_valid
