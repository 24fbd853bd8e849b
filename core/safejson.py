"""JSON from outside, read with a bound on its nesting.

Python's decoder recurses once per level of nesting, so `[` repeated a
hundred thousand times ends in a RecursionError (a 500) rather than a parse
error. Every JSON body and JSON upload is first measured here: a scan in C
(a regular expression with no nested quantifier, and itertools) that never
recurses and takes time linear in the input.
"""

import json
import re
from itertools import accumulate, count
from operator import sub
from typing import Any

from django import forms

MAX_DEPTH = 64

# A string literal, to its closing quote or, if it has none, to the end: a
# match never fails half-way, so no position is scanned twice.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
# Openers become 2, closers 0; every other byte is dropped. Then the running
# sum minus the position is the depth at each bracket.
_BRACKETS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[{]}")


class TooDeep(json.JSONDecodeError):
    """The JSON is nested deeper than the portal reads."""

    def __init__(self, doc: str, max_depth: int):
        super().__init__(f"it is nested more than {max_depth} levels deep", doc, 0)
        self.args = (self.msg,)  # no "line 1 column 1": the depth is not at one place


def nesting_depth(data: bytes | str) -> int:
    """Return how deeply the arrays and objects of a JSON text nest (0 for a scalar)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    brackets = _STRING.sub(b"", raw).translate(_BRACKETS, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(0, max(map(sub, accumulate(brackets), count(1))))


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH, **options) -> Any:
    """Parse JSON, refusing (as a JSONDecodeError, a ValueError) one nested too deep."""
    if nesting_depth(data) > max_depth:
        raise TooDeep("", max_depth)
    try:
        return json.loads(data, **options)
    except RecursionError:  # cannot happen below the bound; kept so it never becomes a 500
        raise TooDeep("", max_depth) from None


class BoundedDecoder(json.JSONDecoder):
    """A decoder for `cls=` arguments (Django's JSON form field) with the nesting bound."""

    def decode(self, s, *args, **kwargs):
        if nesting_depth(s) > MAX_DEPTH:
            raise TooDeep(s, MAX_DEPTH)
        return super().decode(s, *args, **kwargs)


class BoundedJSONField(forms.JSONField):
    """A form's JSON field that says plainly when the JSON is nested too deep."""

    def __init__(self, **kwargs):
        kwargs.setdefault("decoder", BoundedDecoder)
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str) and nesting_depth(value) > MAX_DEPTH:
            raise forms.ValidationError(
                f"The JSON is nested more than {MAX_DEPTH} levels deep; give a flatter value.",
                code="too_deep",
            )
        return super().to_python(value)
