"""Optimistic concurrency over HTTP: the ETag is the campaign's version, and every write names the
version it was made on in If-Match, so two managers cannot silently overwrite each other."""
from __future__ import annotations

import re

from services.campaigns.web.errors import PreconditionRequired
from shared.errors import Problem

_STRONG_VERSION_TAG = re.compile(r'"(\d+)"')


def etag_for(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int:
    """The version an If-Match header names. Only the one strong ETag this API returned is
    accepted: `*` or a weak tag would let a write skip the lost-update check."""
    if not if_match or not if_match.strip():
        raise PreconditionRequired("Read the campaign first and send its ETag in the If-Match header.")
    matched = _STRONG_VERSION_TAG.fullmatch(if_match.strip())
    if matched is None:
        raise Problem(f"If-Match must be the campaign's ETag as returned by GET, e.g. \"3\"; got {if_match!r}.",
                      code="if-match-invalid", title="If-Match not understood")
    return int(matched.group(1))
