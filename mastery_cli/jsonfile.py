"""Reading JSON handed to mastery (a CASE package, grades.json, a JSON cell of a Moodle CSV).

The json module has two traps for such input: an integer longer than Python's 4,300-digit
conversion limit raises a ValueError that names no place, and every level of nesting is a level
of recursion (RecursionError on a file of 100,000 '[' characters, and later recursive code meets
the same depth). `parse_json` refuses both with a problem located in the text: collections
nested deeper than `MAX_DEPTH` (the YAML loader's limit) are found before the json module sees
them, integers longer than `MAX_NUMBER_DIGITS` as it reads them.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from mastery_cli.diagnostics import Diagnostic, error
from mastery_cli.yamlfile import MAX_DEPTH, MAX_NUMBER_DIGITS

__all__ = ["MAX_DEPTH", "MAX_NUMBER_DIGITS", "JsonProblem", "parse_json"]

#: A string (skipped whole, so brackets and digits in text do not count), a bracket or a number.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]|-?[0-9][0-9.eE+-]*')
_ESCAPE = re.compile(r"\\.")
_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonProblem(Exception):
    """JSON the json module could read only unsafely or not at all: too deep, too long a number.

    ``line`` and ``column`` (1-based) are in the text given to `parse_json`.
    """

    def __init__(self, code: str, message: str, line: int, column: int, hint: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint

    def diagnostic(self, path: str, line: int | None = None, column: int | None = None,
                   *, pointer: str | None = None) -> Diagnostic:
        """The problem in the file ``path``: at its place in the text, or (for JSON inside a
        CSV cell) at ``line`` and ``column`` of the file, the place in the cell then named."""
        if line is None:
            return error(self.code, self.message, path, self.line, self.column, hint=self.hint,
                         pointer=pointer)
        return error(self.code, f"{self.message} (at line {self.line}, column {self.column} "
                     "of the cell)", path, line, column, hint=self.hint, pointer=pointer)


class _LongNumber(ValueError):
    pass


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _LongNumber(text)
    return int(text)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - text.rfind("\n", 0, offset)


def _depth(text: str) -> int:
    """How deeply the collections of ``text`` nest, found by the regular expression engine and
    C iterators (a loop over the tokens in Python would take longer than the parse)."""
    if "\\" in text:
        text = _ESCAPE.sub("", text)  # then a string is a quote, no quote, a quote
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _too_deep(text: str) -> JsonProblem | None:
    """json-too-deep at the first bracket nested deeper than MAX_DEPTH, else None."""
    if text.count("[") + text.count("{") <= MAX_DEPTH or _depth(text) <= MAX_DEPTH:
        return None
    depth = 0
    for token in _TOKEN.finditer(text):
        first = token.group()[0]
        if first in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line, column = _position(text, token.start())
                return JsonProblem(
                    "json-too-deep", f"the JSON nests more than {MAX_DEPTH} levels deep",
                    line, column, "real files need a few levels; is this file generated?")
        elif first in "]}":
            depth -= 1
    return None


def _long_number(text: str) -> JsonProblem:
    """json-number-too-long at the first integer longer than MAX_NUMBER_DIGITS."""
    for token in _TOKEN.finditer(text):
        value = token.group()
        digits = value.lstrip("-")
        if digits[:1].isdigit() and digits.isdigit() and len(digits) > MAX_NUMBER_DIGITS:
            line, column = _position(text, token.start())
            break
    else:  # not found again (cannot happen): the start of the text is all we can say
        line, column = 1, 1
    return JsonProblem(
        "json-number-too-long", f"a number with more than {MAX_NUMBER_DIGITS} digits",
        line, column, "no count, level or points value is that long; if it is text, put it "
        "in quotes")


def parse_json(text: str) -> Any:
    """The data of the JSON ``text``.

    Raises `JsonProblem` for JSON nested too deeply or an integer too long, and
    json.JSONDecodeError (with its line and column) for text that is not JSON.
    """
    problem = _too_deep(text)
    if problem is not None:
        raise problem
    try:
        return json.loads(text, parse_int=_parse_int)
    except _LongNumber:
        raise _long_number(text) from None
