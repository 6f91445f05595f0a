"""The one rule for text read from a request, used by every text field of every service's web/schemas.py.

PostgreSQL refuses NUL in text (a 500 where a 422 belongs), and control characters in a name, a school or a
postal address end up in letters, emails and CSV exports; lone surrogates (JSON `"\\ud800"`) cannot be
encoded to UTF-8 at all. So `Text` refuses, at the schema, with a 422 naming the field:
- NUL and every other C0 control, DEL and the C1 controls; a `multiline` text (a description) keeps
  tab, line feed and carriage return;
- lone surrogates;
- more than `max_length` characters, when given.
"""
from __future__ import annotations

import re
from typing import Any

import marshmallow as ma

# One line: no control character at all. Several lines: tab, line feed and carriage return allowed.
_REFUSED_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_REFUSED_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The same rule as the OpenAPI document states it (ECMA-262 regular expressions), so a client generated from the
# document, or a fuzzer, knows which text is accepted. (Lone surrogates cannot be written in UTF-8 at all.)
ONE_LINE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
MULTILINE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"


def refused_character(value: str, multiline: bool = False) -> tuple[int, str] | None:
    """The first character the rule refuses in `value` and its position, or None."""
    found = (_REFUSED_MULTILINE if multiline else _REFUSED_ONE_LINE).search(value)
    return None if found is None else (found.start(), found.group())


class Text(ma.fields.String):
    """A string without NUL or control characters (see the module); `max_length` bounds it when given."""

    default_error_messages = {
        "control": "Text cannot contain control characters (U+{code:04X} at position {position}).",
        "too_long": "Longer than {max_length} characters.",
    }

    def __init__(self, *, multiline: bool = False, max_length: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.multiline = multiline
        self.max_length = max_length
        declared = {"pattern": MULTILINE_PATTERN if multiline else ONE_LINE_PATTERN,
                    **({"maxLength": max_length} if max_length is not None else {})}
        self.metadata = {**declared, **self.metadata}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        refused = refused_character(text, self.multiline)
        if refused is not None:
            position, character = refused
            raise self.make_error("control", code=ord(character), position=position)
        if self.max_length is not None and len(text) > self.max_length:
            raise self.make_error("too_long", max_length=self.max_length)
        return text


def bounded_list(inner: ma.fields.Field, max_items: int, min_items: int = 0, **kwargs: Any) -> ma.fields.List:
    """A list read from a request, never longer than `max_items` (checked before its items are)."""
    return BoundedList(inner, max_items=max_items, min_items=min_items, **kwargs)


class BoundedList(ma.fields.List):
    """A List whose length is checked before any item is deserialised: 100,000 items cost one len()."""

    default_error_messages = {"length": "Between {min_items} and {max_items} items."}

    def __init__(self, inner: ma.fields.Field, *, max_items: int, min_items: int = 0, **kwargs: Any):
        super().__init__(inner, **kwargs)
        self.max_items, self.min_items = max_items, min_items
        # apispec copies these into the OpenAPI document, so clients (and the fuzz tests) know the bounds.
        self.metadata = {**self.metadata, "maxItems": max_items, **({"minItems": min_items} if min_items else {})}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any):
        if isinstance(value, (list, tuple)) and not self.min_items <= len(value) <= self.max_items:
            raise self.make_error("length", min_items=self.min_items, max_items=self.max_items)
        return super()._deserialize(value, attr, data, **kwargs)
