"""Safe YAML loading that remembers where every value came from.

PyYAML's ``safe_load`` has traps for curriculum files: it reads ``2026-09-01`` as a date, ``NO``
as ``False``, keeps the last of two duplicate keys without a word and expands aliases without
limit. Here the C parser only *composes* the node tree (fast, with marks on every node) and our
own constructor turns nodes into plain data:

* scalars follow the YAML 1.2 core schema (only ``true``/``false`` are booleans, dates stay
  strings), and the raw text of every plain scalar stays available, so a value the schema
  wants as a string (a version ``1.10``) can be read back exactly as written;
* a duplicate key is an error at the duplicate's line;
* the size an alias expands to is measured before anything is built, so a "billion laughs"
  file fails at once instead of filling memory.

Positions are not stored per value (that would double the cost of loading a large framework):
the node tree is kept and walked only when a diagnostic needs a line and column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mastery_cli.diagnostics import Diagnostic, error

try:  # the C parser is ~10x faster; fall back to pure Python where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Pointer = tuple[str | int, ...]

#: An alias may expand a document to at most this many nodes; real frameworks stay far below.
MAX_EXPANDED_NODES = 2_000_000
#: ...and aliases may not multiply the document more than this many times over.
MAX_ALIAS_GROWTH = 50

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def pointer_text(pointer: Pointer) -> str:
    """A JSON pointer (RFC 6901) for a path of keys and indexes."""
    if not pointer:
        return ""
    parts = (str(p).replace("~", "~0").replace("/", "~1") for p in pointer)
    return "/" + "/".join(parts)


def _plain_scalar(value: str) -> Any:
    if _NULL.match(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT.match(value):
        return int(value)
    if _OCT.match(value):
        return int(value[2:], 8)
    if _HEX.match(value):
        return int(value[2:], 16)
    if _FLOAT.match(value):
        return float(value)
    if _INF.match(value):
        return float("-inf") if value.startswith("-") else float("inf")
    if _NAN.match(value):
        return float("nan")
    return value


class _BuildError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


@dataclass
class YamlDocument:
    """A loaded YAML file: its data plus the node tree that knows where each value is."""

    path: str
    data: Any
    root: yaml.Node | None = field(repr=False, default=None)

    def node_at(self, pointer: Pointer) -> tuple[yaml.Node | None, yaml.Node | None, Pointer]:
        """The value node at ``pointer`` and the key node naming it.

        When the pointer goes deeper than the document, returns the deepest node that exists
        (and its key), with the part of the pointer that was found.
        """
        node, key_node = self.root, None
        found: list[str | int] = []
        for part in pointer:
            child = key = None
            if isinstance(node, yaml.MappingNode):
                for k, v in _mapping_pairs(node):
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                        child, key = v, k
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if 0 <= part < len(node.value):
                    child = node.value[part]
            if child is None:
                break
            node, key_node = child, key
            found.append(part)
        return node, key_node, tuple(found)

    def position(self, pointer: Pointer, *, key: bool = False) -> tuple[int | None, int | None]:
        """1-based (line, column) of the value at ``pointer`` (of its key with ``key=True``).

        A pointer to something that is not there (a missing required key) gives the position of
        the deepest ancestor that is there, by its key when it has one, so the diagnostic lands
        on the mapping the key is missing from.
        """
        if self.root is None:
            return 1, 1
        node, key_node, found = self.node_at(pointer)
        complete = len(found) == len(pointer)
        target = key_node if (key_node is not None and (key or not complete)) else node
        if target is None:
            return 1, 1
        mark = target.start_mark
        return mark.line + 1, mark.column + 1

    def raw_scalar(self, pointer: Pointer) -> str | None:
        """The text of a plain (unquoted) scalar as written, or None for anything else."""
        node, _, found = self.node_at(pointer)
        if len(found) != len(pointer) or not isinstance(node, yaml.ScalarNode):
            return None
        return node.value if not node.style else None

    def diagnostic(
        self,
        code: str,
        message: str,
        pointer: Pointer = (),
        *,
        hint: str | None = None,
        key: bool = False,
        severity: str = "error",
    ) -> Diagnostic:
        from mastery_cli.diagnostics import Severity

        line, column = self.position(pointer, key=key)
        return Diagnostic(
            self.path, line, column, code, message, Severity(severity), hint,
            pointer_text(pointer),
        )


def _mapping_pairs(node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    return node.value  # type: ignore[no-any-return]


def _measure(root: yaml.Node, path: str) -> None:
    """Refuse documents whose aliases would expand them beyond reason, before building them."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    unique = 0
    aliased = False

    def size(node: yaml.Node) -> int:
        nonlocal unique, aliased
        ident = id(node)
        if ident in sizes:
            aliased = True
            return sizes[ident]
        if ident in active:
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
            raise _BuildError(error(
                "yaml-recursive-alias", "an alias refers to the collection that contains it",
                path, line, col, hint="a mastery file is a tree: copy the values instead",
            ))
        unique += 1
        total = 1
        if isinstance(node, yaml.SequenceNode):
            active.add(ident)
            total += sum(size(child) for child in node.value)
            active.discard(ident)
        elif isinstance(node, yaml.MappingNode):
            active.add(ident)
            total += sum(size(k) + size(v) for k, v in node.value)
            active.discard(ident)
        sizes[ident] = total
        if total > MAX_EXPANDED_NODES:
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
            raise _BuildError(error(
                "yaml-alias-bomb",
                f"aliases expand this document to more than {MAX_EXPANDED_NODES:,} values",
                path, line, col,
                hint="this looks like a 'billion laughs' file; remove the nested aliases",
            ))
        return total

    total = size(root)
    if aliased and total > MAX_ALIAS_GROWTH * max(unique, 1000):
        mark = root.start_mark
        raise _BuildError(error(
            "yaml-alias-bomb",
            f"aliases expand {unique:,} values written in the file to {total:,}",
            path, mark.line + 1, mark.column + 1,
            hint="this looks like a 'billion laughs' file; remove the nested aliases",
        ))


def _build(node: yaml.Node, path: str) -> Any:
    if isinstance(node, yaml.ScalarNode):
        # The C parser marks plain scalars with style '' and the Python one with None.
        plain = not node.style
        if plain and node.tag != _STR_TAG:
            return _plain_scalar(node.value)
        if plain and node.tag == _STR_TAG:
            # The 1.1 resolver called it a string, so 1.2 rules can only differ for forms
            # like 0o17 that 1.1 does not know; an explicit !!str is honoured either way.
            return _plain_scalar(node.value) if _OCT.match(node.value) else node.value
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, path) for child in node.value]
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        seen: dict[str, yaml.Node] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [
                    value_node
                ]
                for source in sources:
                    value = _build(source, path)
                    if isinstance(value, dict):
                        for k, v in value.items():
                            merged.setdefault(k, v)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                mark = key_node.start_mark
                raise _BuildError(error(
                    "yaml-complex-key", "a key must be plain text, not a list or a mapping",
                    path, mark.line + 1, mark.column + 1,
                ))
            key = key_node.value
            if key in seen:
                first = seen[key].start_mark.line + 1
                mark = key_node.start_mark
                raise _BuildError(error(
                    "duplicate-key",
                    f"duplicate key '{key}' (first defined at line {first})",
                    path, mark.line + 1, mark.column + 1,
                    hint="YAML would silently keep only one of them; remove or rename one",
                ))
            seen[key] = key_node
            result[key] = _build(value_node, path)
        for k, v in merged.items():
            result.setdefault(k, v)
        return result
    raise _BuildError(error("yaml-syntax", "unsupported YAML node", path))  # pragma: no cover


def _decode(raw: bytes, path: str) -> tuple[str | None, Diagnostic | None]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, error(
            "file-encoding", "the file is UTF-16; mastery files must be UTF-8", path, 1, 1,
            hint="save the file as UTF-8 (in most editors: Save as… > Encoding > UTF-8)",
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, error(
            "file-encoding",
            f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
            path, line, column,
            hint="save the file as UTF-8; it was probably written as Windows-1252 or Latin-1",
        )


def _syntax_diagnostic(exc: yaml.YAMLError, path: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if "\\t" in problem or "'\\t'" in problem or "tab" in problem.lower():
        return error(
            "yaml-tab", "a tab character is used for indentation", path, line, column,
            hint="YAML allows only spaces for indentation; replace the tab with spaces",
        )
    if "expected a single document" in problem or (
        context and "expected a single document" in context
    ):
        return error(
            "yaml-multiple-documents", "the file holds more than one YAML document", path,
            line, column, hint="keep one document per file; remove the '---' separator",
        )
    message = problem if not context else f"{problem} ({context})"
    return error("yaml-syntax", f"invalid YAML: {message}", path, line, column)


def load_yaml_bytes(raw: bytes, path: str) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Parse ``raw`` (the bytes of the file shown as ``path``)."""
    text, problem = _decode(raw, path)
    if problem is not None or text is None:
        return None, [problem] if problem else []
    if "\x00" in text:
        index = text.index("\x00")
        line = text.count("\n", 0, index) + 1
        return None, [error("file-encoding", "the file contains a NUL byte (binary data?)",
                            path, line, index - text.rfind("\n", 0, index))]
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        return None, [_syntax_diagnostic(exc, path)]
    except RecursionError:
        return None, [error("yaml-too-deep", "the YAML nests too deeply to read", path, 1, 1)]
    if root is None:
        return YamlDocument(path, None, None), []
    try:
        _measure(root, path)
        data = _build(root, path)
    except _BuildError as exc:
        return None, [exc.diagnostic]
    except RecursionError:
        return None, [error("yaml-too-deep", "the YAML nests too deeply to read", path, 1, 1)]
    return YamlDocument(path, data, root), []


def load_yaml(file: Path, display: str | None = None) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Read and parse a YAML file; problems come back as diagnostics, never as exceptions."""
    shown = display if display is not None else str(file)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        return None, [error("file-unreadable", f"cannot read the file: {exc.strerror}", shown)]
    return load_yaml_bytes(raw, shown)


def coerce_pointer_values(
    document: YamlDocument, pointers: Sequence[Pointer]
) -> list[Pointer]:
    """Turn plain scalars at ``pointers`` back into the exact text written in the file.

    Used where the schema wants a string and YAML read a number (``version: 1.10``) or a
    boolean: the author meant the text. Returns the pointers that were changed.
    """
    changed = []
    for pointer in pointers:
        raw = document.raw_scalar(pointer)
        if raw is None or not pointer:
            continue
        parent = document.data
        try:
            for part in pointer[:-1]:
                parent = parent[part]
            if parent[pointer[-1]] is not None and not isinstance(parent[pointer[-1]], str):
                parent[pointer[-1]] = raw
                changed.append(pointer)
        except (KeyError, IndexError, TypeError):
            continue
    return changed
