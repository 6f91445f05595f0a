"""Every form the portal renders carries the session's anti-forgery token, and every POST must send
it back. The session cookie is already SameSite=Lax, which keeps other sites' POSTs out in current
browsers; the token also covers older browsers and a sibling subdomain of the city's site that an
attacker could control (SameSite counts it as the same site)."""
from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session
from markupsafe import Markup

FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def hidden_field() -> Markup:
    """For templates: `{{ csrf_field() }}` inside each form."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, token())


def refuse_forged_posts() -> None:
    """A before_request hook: a POST without the session's token changes nothing."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = session.get("csrf")
    sent = request.form.get(FIELD, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="csrf")
