"""Checks on raw values that several rules share."""
from __future__ import annotations


def is_int(value: object) -> bool:
    """True for whole numbers only: bool is an int subclass in Python but never a count or a price."""
    return isinstance(value, int) and not isinstance(value, bool)
