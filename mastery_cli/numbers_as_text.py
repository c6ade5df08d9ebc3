"""Numbers written where a file holds text are read as the text written, once, on loading.

YAML reads ``id: 101``, ``grade_levels: [9]``, ``short: 1`` and ``school: 1984`` as numbers. The
rule: the schemas accept a number exactly where a value is text that may look like a number
(``"type": ["string", "number"]``), so editors do not flag it, and ``convert`` turns every such
number into the text as written in the file (``id: 1.10`` is "1.10", not "1.1") before anything
else reads the document. A number anywhere else that wants text (a language code, a method
name) stays a number and is a schema error, in the editor and in ``mastery validate`` alike.

Which places hold text is read off the schema: every branch (``oneOf``, ``anyOf``, ``allOf``,
``if``/``then``/``else``) and reference (``$ref``) is followed, so a place is text when any
schema that may apply there says so. The walk is compiled once per schema and shared.
"""

from __future__ import annotations

import re
from typing import Any

from mastery_cli.schema_refs import resolve
from mastery_cli.yamlfile import Pointer, YamlDocument, coerce_pointer_values

_BRANCH_LISTS = ("allOf", "anyOf", "oneOf")
_BRANCHES = ("if", "then", "else")


def _is_text_type(declared: Any) -> bool:
    return isinstance(declared, list) and "string" in declared and "number" in declared


class _Place:
    """A place in a document with every schema that may apply to the value there."""

    def __init__(self, schemas: list[dict[str, Any]], root: dict[str, Any]) -> None:
        self._schemas = schemas
        self._root = root
        self.text = any(_is_text_type(schema.get("type")) for schema in schemas)
        self._keys: dict[str, _Place | None] = {}
        self._item: _Place | None = None
        self._item_known = False

    def key(self, name: str) -> _Place | None:
        """The place of the value under ``name`` in a mapping here; None when no schema says."""
        if name not in self._keys:
            found: list[Any] = []
            for schema in self._schemas:
                properties = schema.get("properties")
                patterns = schema.get("patternProperties")
                named = isinstance(properties, dict) and name in properties
                if named:
                    found.append(properties[name])  # type: ignore[index]
                matched = [sub for pattern, sub in patterns.items() if re.search(pattern, name)
                           ] if isinstance(patterns, dict) else []
                found.extend(matched)
                if not named and not matched:
                    found.append(schema.get("additionalProperties"))
            self._keys[name] = _place(found, self._root)
        return self._keys[name]

    def item(self) -> _Place | None:
        """The place of the items of a list here; None when no schema says."""
        if not self._item_known:
            self._item = _place([schema.get("items") for schema in self._schemas], self._root)
            self._item_known = True
        return self._item


def _expand(schema: Any, root: dict[str, Any], into: list[dict[str, Any]]) -> None:
    """``schema`` and every schema it brings in: references and branches."""
    if not isinstance(schema, dict) or any(schema is seen for seen in into):
        return
    into.append(schema)
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#"):
        _expand(resolve(root, reference), root, into)
    for keyword in _BRANCH_LISTS:
        for branch in schema.get(keyword) or []:
            _expand(branch, root, into)
    for keyword in _BRANCHES:
        _expand(schema.get(keyword), root, into)


def _place(schemas: list[Any], root: dict[str, Any]) -> _Place | None:
    expanded: list[dict[str, Any]] = []
    for schema in schemas:
        _expand(schema, root, expanded)
    return _Place(expanded, root) if expanded else None


_ROOTS: dict[int, tuple[dict[str, Any], _Place | None]] = {}


def _root_place(schema: dict[str, Any]) -> _Place | None:
    known = _ROOTS.get(id(schema))
    if known is None or known[0] is not schema:
        if len(_ROOTS) >= 8:  # the bundled schemas are loaded once; others come and go
            _ROOTS.clear()
        known = (schema, _place([schema], schema))
        _ROOTS[id(schema)] = known
    return known[1]


def _numbers_at_text_places(data: Any, place: _Place, at: list[Any],
                            found: list[Pointer]) -> None:
    # Hot: every mapping and list of a document passes here (600,000 nodes in a 20,000-target
    # framework), so text, booleans and nothing are skipped before anything else is looked up.
    if type(data) is dict:
        pairs: Any = data.items()
    else:
        item = place.item()
        if item is None:
            return
        pairs = ((index, value) for index, value in enumerate(data))
    for name, value in pairs:
        kind = type(value)
        if kind is str or kind is bool or value is None:
            continue
        child = place.key(name) if type(data) is dict else item
        if child is None:
            continue
        if kind is dict or kind is list:
            at.append(name)
            _numbers_at_text_places(value, child, at, found)
            at.pop()
        elif child.text and (kind is int or kind is float):
            found.append((*at, name))


def convert(document: YamlDocument, schema: dict[str, Any]) -> list[Pointer]:
    """Turn every number at a text place of ``schema`` into its text; the places changed."""
    found: list[Pointer] = []
    root = _root_place(schema)
    if root is not None and isinstance(document.data, dict | list):
        _numbers_at_text_places(document.data, root, [], found)
    as_written = set(coerce_pointer_values(document, found))
    for pointer in found:
        if pointer not in as_written:  # a number with an explicit tag has no plain text
            parent: Any = document.data
            for part in pointer[:-1]:
                parent = parent[part]
            parent[pointer[-1]] = _plain_text(parent[pointer[-1]])
    return found


def _plain_text(number: int | float) -> str:
    """A number given with an explicit tag (``!!float "5"``) has no plain text; spell it."""
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)
