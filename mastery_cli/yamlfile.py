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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mastery_cli.diagnostics import Diagnostic, error, shortened
from mastery_cli.inputs import hint_for, read_regular_bytes

try:  # the C parser is ~10x faster; fall back to pure Python where libyaml is missing
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

Pointer = tuple[str | int, ...]

#: An alias may expand a document to at most this many nodes; real frameworks stay far below.
MAX_EXPANDED_NODES = 2_000_000
#: ...and aliases may not multiply the document more than this many times over.
MAX_ALIAS_GROWTH = 50
#: Collections may nest this deep; mastery files need about 8 levels.
MAX_DEPTH = 200
#: An integer may have this many digits: no count, level or points value has more, and every
#: value stays far below Python's 4,300-digit limit for turning integers into text (and back).
MAX_NUMBER_DIGITS = 100

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_MERGE_TAG = "tag:yaml.org,2002:merge"
#: The tag our loader gives plain (unquoted, untagged) scalars; ``_build`` resolves them.
_PLAIN_TAG = "tag:mastery-cli,2026:plain"
#: First characters of plain scalars that may be something other than text.
_NON_TEXT_START = frozenset("-+.0123456789~nNtTfF")


class _Loader(_BaseLoader):
    """Composes nodes without PyYAML's YAML 1.1 tag resolution.

    The stock resolver runs a regular expression per scalar in Python (a third of the time
    spent on a large framework) to find 1.1 booleans and dates that we do not want anyway;
    plain scalars are marked as such and resolved by ``_plain_scalar`` (YAML 1.2 core).
    """

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            return _PLAIN_TAG if implicit[0] else _STR_TAG
        return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None  # path-based resolvers are not used

    def ascend_resolver(self) -> None:
        return None


def pointer_text(pointer: Pointer) -> str:
    """A JSON pointer (RFC 6901) for a path of keys and indexes."""
    if not pointer:
        return ""
    parts = (str(p).replace("~", "~0").replace("/", "~1") for p in pointer)
    return "/" + "/".join(parts)


def _plain_scalar(value: str) -> Any:
    if value and value[0] not in _NON_TEXT_START:
        return value  # most scalars are text; skip the patterns
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


def _too_long_integer(value: str) -> bool:
    """Whether a plain scalar is an integer (decimal, 0o or 0x) of more than MAX_NUMBER_DIGITS."""
    if len(value) <= MAX_NUMBER_DIGITS:
        return False
    if _INT.match(value):
        return len(value.lstrip("+-")) > MAX_NUMBER_DIGITS
    return bool(_OCT.match(value) or _HEX.match(value)) and len(value) - 2 > MAX_NUMBER_DIGITS


class _BuildError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


@dataclass
class YamlDocument:
    """A loaded YAML file: its data plus the node tree that knows where each value is.

    The node tree is not kept after loading: it is three times the size of the data, and only a
    file with a problem needs positions. ``root`` composes it again from ``text`` on first use
    (the same text gives the same tree; it has been parsed once already).
    """

    path: str
    data: Any
    _root: yaml.Node | None = field(repr=False, default=None)
    text: str | None = field(repr=False, default=None)

    @property
    def root(self) -> yaml.Node | None:
        if self._root is None and self.text is not None:
            self._root = yaml.compose(self.text, Loader=_Loader)
        return self._root

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
            elif (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
                  and 0 <= part < len(node.value)):
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
    pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
    return pairs


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


@dataclass
class _Source:
    """The text a document is built from, and the mistakes repaired while building it."""

    text: str
    repaired: list[Diagnostic] = field(default_factory=list)


def _build(node: Any, path: str, source: _Source) -> Any:  # a yaml.Node; Any for .id, .style
    if node.id == "scalar":
        tag = node.tag
        if tag == _STR_TAG or node.style:
            return node.value  # quoted, or explicitly !!str
        # A plain scalar, or another explicit tag (!!int 5): read as 1.2 core.
        if _too_long_integer(node.value):
            mark = node.start_mark
            raise _BuildError(error(
                "yaml-number-too-long", f"a number with more than {MAX_NUMBER_DIGITS} digits",
                path, mark.line + 1, mark.column + 1,
                hint="no count, level or points value is that long; if it is text, put it in "
                "quotes",
            ))
        return _plain_scalar(node.value)
    if node.id == "sequence":
        return [_build(child, path, source) for child in node.value]
    result: dict[str, Any] = {}
    seen: dict[str, yaml.Node] = {}
    merged: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if key_node.id == "scalar" and (
            key_node.tag == _MERGE_TAG or (key_node.tag == _PLAIN_TAG and key_node.value == "<<")
        ):
            sources = value_node.value if value_node.id == "sequence" else [value_node]
            for item in sources:
                value = _build(item, path, source)
                if isinstance(value, dict):
                    for k, v in value.items():
                        merged.setdefault(k, v)
            continue
        if key_node.id != "scalar":
            mark = key_node.start_mark
            raise _BuildError(error(
                "yaml-complex-key", "a key must be plain text, not a list or a mapping",
                path, mark.line + 1, mark.column + 1,
            ))
        key = key_node.value
        if (not value_node.value and node.flow_style
                and _rejoin_comma(node, key_node, value_node, result, path, source)):
            continue
        if key in seen:
            first = seen[key].start_mark.line + 1
            mark = key_node.start_mark
            raise _BuildError(error(
                "duplicate-key",
                f"duplicate key '{shortened(str(key))}' (first defined at line {first})",
                path, mark.line + 1, mark.column + 1,
                hint="YAML would silently keep only one of them; remove or rename one",
            ))
        seen[key] = key_node
        result[key] = _build(value_node, path, source)
    for k, v in merged.items():
        result.setdefault(k, v)
    return result


def _is_bare_key(key_node: Any, value_node: Any, text: str) -> bool:
    """A plain key with no ':' after it: ``not the idea.`` in ``{en: A, not the idea.}``."""
    return (
        key_node.id == "scalar" and not key_node.style
        and value_node.id == "scalar" and value_node.tag == _PLAIN_TAG and not value_node.value
        and ":" not in text[key_node.end_mark.index:value_node.start_mark.index]
    )


def _rejoin_comma(
    mapping: Any, key_node: Any, value_node: Any, result: dict[str, Any], path: str,
    source: _Source,
) -> bool:
    """Repair text cut by an unquoted comma in a flow mapping, reporting it; False if it is not.

    In ``{en: Names the topic, not the idea., es: …}`` the comma ends the English text and
    ``not the idea.`` becomes a key without a value. The author meant one text: the entry gets
    the text as written (so no later check trips over the stray key), and one error says to quote
    it, at the comma.
    """
    text = source.text
    if not _is_bare_key(key_node, value_node, text):
        return False
    pairs: list[tuple[Any, Any]] = mapping.value
    index = next(i for i, (k, _) in enumerate(pairs) if k is key_node)
    first = index - 1
    while first >= 0 and _is_bare_key(*pairs[first], text):
        first -= 1
    if first < 0:
        return False
    start_key, start_value = pairs[first]
    if (start_value.id != "scalar" or start_value.style or start_value.tag != _PLAIN_TAG
            or not start_value.value or start_key.value not in result):
        return False
    written = text[start_value.start_mark.index:key_node.end_mark.index]
    joined = re.sub(r"[ \t]*\r?\n\s*", " ", written)  # how a plain scalar folds line breaks
    result[start_key.value] = joined
    if index + 1 < len(pairs) and _is_bare_key(*pairs[index + 1], text):
        return True  # the text goes on past another comma: one error for all of it
    end = start_value.end_mark
    before = text[end.index:text.index(",", end.index)]
    line = end.line + before.count("\n") + 1
    column = len(before) - before.rfind("\n") if "\n" in before else end.column + len(before) + 1
    written_key = text[start_key.start_mark.index:start_key.end_mark.index]
    quoted = '"' + joined.replace("\\", "\\\\").replace('"', '\\"') + '"'
    source.repaired.append(error(
        "yaml-unquoted-comma",
        "text containing a comma inside {…} must be quoted: without quotes the text of "
        f"'{start_key.value}' ends at the comma and '{pairs[first + 1][0].value}' becomes a key "
        "of its own",
        path, line, column, hint=f"put the text in quotes: {written_key}: {quoted}",
    ))
    return True


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
        # In characters, like YAML's own marks (the bytes before it on the line are valid).
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        return None, error(
            "file-encoding",
            f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
            path, line, column,
            hint="save the file as UTF-8; it was probably written as Windows-1252 or Latin-1",
        )


_SYNTAX_HINTS = (
    ("mapping values are not allowed", "a value that contains ': ' must be put in quotes"),
    ("could not find expected ':'", "a key needs ': ' after it; check the line above too"),
    ("did not find expected key", "check the indentation: entries of a mapping line up"),
    ("did not find expected '-' indicator", "check the indentation: items of a list line up"),
    ("did not find expected ','", "a [list] or {mapping} written on one line is not closed"),
    ("found undefined alias", "an alias (*name) needs an anchor (&name) earlier in the file"),
    ("found unexpected end of stream", "a quote or bracket is not closed"),
)


def _tab_at(text: str, line: int, column: int) -> bool:
    """Whether the parser stopped on a tab used as indentation (or right at a tab)."""
    lines = text.splitlines()
    if not 0 <= line < len(lines):
        return False
    current = lines[line]
    indentation = current[: len(current) - len(current.lstrip(" \t"))]
    return "\t" in indentation or current[column: column + 1] == "\t"


def _over_indented_key(text: str, line: int, column: int) -> tuple[str, int, int] | None:
    """(key, its line's indentation, line it continues) when a refused ':' starts a key line.

    "mapping values are not allowed" at the first ': ' of a line such as ``   i_can: …`` means
    the line is indented further than its key's mapping, so YAML reads it as more of the text
    of the less indented line above (``statement: …``): an indentation mistake, not a value to
    quote. 0-based line and column in; 1-based column and line out.
    """
    lines = text.splitlines()
    if not 0 <= line < len(lines):
        return None
    current = lines[line]
    indent = len(current) - len(current.lstrip(" "))
    start = indent
    while current.startswith("- ", start):
        start += 2
    key = current[start:column].strip()
    if not key or ": " in key or key.startswith("#") or current[column: column + 1] != ":":
        return None
    for above in range(line - 1, -1, -1):
        content = lines[above].lstrip(" ")
        if content and not content.startswith("#") and len(lines[above]) - len(content) < indent:
            return key, indent + 1, above + 1
    return None


def _syntax_diagnostic(exc: yaml.YAMLError, path: str, text: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if mark is not None and ("\\t" in problem or _tab_at(text, mark.line, mark.column)):
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
    if mark is not None and "mapping values are not allowed" in problem:
        over_indented = _over_indented_key(text, mark.line, mark.column)
        if over_indented is not None:
            key, key_column, above = over_indented
            return error(
                "yaml-syntax",
                f"invalid YAML: '{key}' is indented further than line {above}, so it is read as "
                "more of that line's text", path, line, key_column,
                hint="keys of one mapping start in the same column: remove the extra spaces "
                "(if the line is more of the text, put all of the text in quotes)",
            )
    message = problem
    if context:
        where = ""
        if context_mark is not None and mark is not None and context_mark.line != mark.line:
            where = f" that starts at line {context_mark.line + 1}"
        message = f"{problem} ({context}{where})"
    hint = next((h for needle, h in _SYNTAX_HINTS if needle in problem), None)
    return error("yaml-syntax", f"invalid YAML: {message}", path, line, column, hint=hint)


#: An indicator after which a block collection may start on the same line ("- - a", "- a: 1",
#: "? - a"), with the blanks that follow it.
_AFTER_INDICATOR = re.compile(r"[-?:][ \t]+")


def _surely_shallow(text: str, limit: int = MAX_DEPTH) -> bool:
    """True when the document's collections surely nest at most ``limit`` deep, found cheaply;
    False when they might nest deeper (then the parser's events are counted).

    A nested block collection starts at a larger column than its parent's (a block sequence
    under a key may share the key's column, so two levels take at least one column), and each
    flow collection needs its own bracket: the depth is at most 2 * C + 2 + the brackets, C
    being the furthest column where a block collection starts. One starts at a line's first
    character that is not a blank, or right after a '-', '?' or ':' indicator and its blanks;
    counting every such place, even inside text, can only overestimate C. (Taking the longest
    line for C, as before, sent every file with a line of ~100 characters through a second,
    event-by-event parse.)
    """
    room = limit - 2 - text.count("[") - text.count("{")
    if room < 0:
        return False
    furthest = room // 2  # the furthest C may be
    for line in text.splitlines():
        if len(line) <= furthest:
            continue  # nothing on this line starts further
        start = len(line) - len(line.lstrip(" \t"))
        for match in _AFTER_INDICATOR.finditer(line, start):
            start = match.end()
        if start > furthest:
            return False
    return True


def _too_deep(text: str, path: str) -> Diagnostic | None:
    """yaml-too-deep at the first collection nested deeper than MAX_DEPTH, else None.

    Checked before composing because libyaml's composer recurses in C without a limit: a file of
    100,000 '[' characters would crash the process instead of raising an error.
    """
    if _surely_shallow(text):
        return None
    try:
        return _first_too_deep(yaml.parse(text, Loader=_Loader), path)
    except yaml.YAMLError:
        # Newer libyaml stops at a nesting limit of its own with a scanner error, and it scans
        # a flow collection ahead, so it may stop before our limit's event is reached. The
        # pure-Python parser has no such limit and does not recurse: it says where the document
        # gets too deep. A real syntax error is left to compose, which reports it.
        try:
            return _first_too_deep(yaml.parse(text, Loader=yaml.SafeLoader), path)
        except yaml.YAMLError:
            return None


def _first_too_deep(events: Iterable[yaml.Event], path: str) -> Diagnostic | None:
    depth = 0
    for event in events:  # the event parser does not recurse
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                return error(
                    "yaml-too-deep", f"collections nest more than {MAX_DEPTH} levels deep",
                    path, mark.line + 1 if mark else None, mark.column + 1 if mark else None,
                    hint="a mastery file needs only a few levels; is this file generated?",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def load_yaml_bytes(raw: bytes, path: str) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Parse ``raw`` (the bytes of the file shown as ``path``).

    Problems with no document: the file could not be read. Problems with a document: mistakes
    repaired as the author meant them (text cut by an unquoted comma), errors all the same.
    """
    text, problem = _decode(raw, path)
    if problem is not None or text is None:
        return None, [problem] if problem else []
    if "\x00" in text:
        index = text.index("\x00")
        line = text.count("\n", 0, index) + 1
        return None, [error("file-encoding", "the file contains a NUL byte (binary data?)",
                            path, line, index - text.rfind("\n", 0, index))]
    try:
        too_deep = _too_deep(text, path)
        if too_deep is not None:
            return None, [too_deep]
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        return None, [_syntax_diagnostic(exc, path, text)]
    except RecursionError:
        return None, [error("yaml-too-deep", "the YAML nests too deeply to read", path, 1, 1)]
    if root is None:
        return YamlDocument(path, None, None), []
    try:
        if "*" in text:  # without an alias there is nothing to expand
            _measure(root, path)
        source = _Source(text)
        data = _build(root, path, source)
    except _BuildError as exc:
        return None, [exc.diagnostic]
    except RecursionError:
        return None, [error("yaml-too-deep", "the YAML nests too deeply to read", path, 1, 1)]
    return YamlDocument(path, data, None, text), source.repaired


def load_yaml(
    file: Path, display: str | None = None
) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Read and parse a YAML file; problems come back as diagnostics, never as exceptions."""
    shown = display if display is not None else str(file)
    try:
        raw = read_regular_bytes(file)
    except OSError as exc:
        return None, [error("file-unreadable", f"cannot read the file: {exc.strerror}", shown,
                            hint=hint_for(exc))]
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
