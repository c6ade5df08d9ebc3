"""A deterministic YAML writer for the files the importers produce.

PyYAML's dumper reorders nothing only when told, wraps text at odd places, writes anchors for
repeated objects and leaves strings like ``NO``, ``1.10`` or ``2026-09-01`` plain, which YAML 1.1
readers then misread. This writer emits block style only, keeps keys in the order they were
inserted (the importers insert them in the schema's order), keeps unicode as written, folds long
prose at word boundaries (``>-``) and quotes every string that a YAML 1.1 or 1.2 reader would
not read back as the same string. Output for equal input is byte-identical.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from mastery_cli.yamlfile import _plain_scalar

WIDTH = 100
_INDENT = "  "
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
# Characters that start something other than a plain scalar, or end one early.
_BAD_START = set("-?:,[]{}#&*!|>'\"%@`~ \t")
_BAD_INSIDE = (": ", " #", "\t", "\n", "\r")
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]*$")
_UNPRINTABLE = re.compile(r"[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def _plain_ok(text: str) -> bool:
    if not text or text[0] in _BAD_START or text[-1] in " :" or not _PRINTABLE.match(text):
        return False
    if text[0].isspace() or text[-1].isspace():  # NBSP and friends: readers disagree
        return False
    if any(part in text for part in _BAD_INSIDE):
        return False
    # Both readers must see a string: YAML 1.1 (PyYAML, most tools) and 1.2 (our loader).
    if _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) != _STR_TAG:
        return False
    return isinstance(_plain_scalar(text), str)


def _quoted(text: str) -> str:
    # JSON string escapes are a subset of YAML double-quoted escapes; YAML also refuses raw
    # C1 controls and a few other code points that JSON leaves alone, so escape those too.
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}",
                            json.dumps(text, ensure_ascii=False))


def _foldable(text: str) -> bool:
    return (
        _PRINTABLE.match(text) is not None
        and text == text.strip()
        and "  " not in text
        and " " in text
    )


def _fold(text: str, width: int) -> list[str]:
    """Break at single spaces so that YAML folding (one newline -> one space) restores it."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return lines


def _literal_ok(text: str) -> bool:
    lines = text.split("\n")
    return (
        _PRINTABLE.match(text.replace("\n", "")) is not None
        and not text.endswith("\n")
        and not text.startswith((" ", "\n"))
        and all(line == line.rstrip() for line in lines)
    )


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        # YAML 1.1 wants a dot in the mantissa ("1.0e-05"); 1.2 reads either.
        return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text
    text = str(value)
    return text if _plain_ok(text) else _quoted(text)


def _string_lines(text: str, indent: str, column: int) -> list[str] | None:
    """Block-scalar lines for a long or multi-line string, or None to write it inline."""
    if "\n" in text:
        if not _literal_ok(text):
            return None
        return ["|-", *[f"{indent}{line}" if line else "" for line in text.split("\n")]]
    if column + len(text) <= WIDTH or not _foldable(text):
        return None
    body = _fold(text, WIDTH - len(indent))
    if len(body) < 2:
        return None
    return [">-", *[f"{indent}{line}" for line in body]]


def _value_lines(value: Any, indent: str, column: int) -> tuple[str, list[str]]:
    """(text after 'key:' on the same line, following lines) for a mapping value."""
    if isinstance(value, Mapping):
        if not value:
            return " {}", []
        return "", _mapping_lines(value, indent + _INDENT)
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            return " []", []
        return "", _sequence_lines(value, indent + _INDENT)
    if isinstance(value, str):
        block = _string_lines(value, indent + _INDENT, column)
        if block is not None:
            return " " + block[0], block[1:]
    return " " + _scalar(value), []


def _mapping_lines(mapping: Mapping[str, Any], indent: str) -> list[str]:
    lines = []
    for key, value in mapping.items():
        head = f"{indent}{_scalar(str(key))}:"
        inline, rest = _value_lines(value, indent, len(head) + 1)
        lines.append(head + inline)
        lines.extend(rest)
    return lines


def _sequence_lines(items: Sequence[Any], indent: str) -> list[str]:
    lines = []
    for item in items:
        if isinstance(item, Mapping) and item:
            body = _mapping_lines(item, indent + _INDENT)
            lines.append(f"{indent}- {body[0].lstrip()}")
            lines.extend(body[1:])
        elif isinstance(item, Sequence) and not isinstance(item, str) and item:
            body = _sequence_lines(item, indent + _INDENT)
            lines.append(f"{indent}- {body[0].lstrip()}")
            lines.extend(body[1:])
        elif isinstance(item, str):
            block = _string_lines(item, indent + _INDENT, len(indent) + 2)
            if block is None:
                lines.append(f"{indent}- {_scalar(item)}")
            else:
                lines.append(f"{indent}- {block[0]}")
                lines.extend(block[1:])
        else:
            inline, rest = _value_lines(item, indent, len(indent) + 2)
            lines.append(f"{indent}-{inline}")
            lines.extend(rest)
    return lines


def dump_yaml(data: Mapping[str, Any], *, schema: str | None = None,
              comments: Sequence[str] = ()) -> str:
    """The YAML text of ``data``; ``schema`` adds the yaml-language-server line first."""
    lines = []
    if schema:
        lines.append(f"# yaml-language-server: $schema={schema}")
    lines.extend(f"# {c}" if c else "#" for c in comments)
    if lines:
        lines.append("")
    lines.extend(_mapping_lines(data, "") if data else ["{}"])
    return "\n".join(lines) + "\n"
