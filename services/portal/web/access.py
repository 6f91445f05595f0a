"""Who is signed in, what a page requires of them, and the other services' APIs carrying their token.
The tokens live in the server-side session (web/sessions.py, web/sign_in.py), never in the cookie."""
from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime

from flask import redirect, render_template, request, session, url_for

from services.portal.bootstrap import PortalComponents
from services.portal.client.api import ServiceClient
from services.portal.web.sign_in import access_token


def client(name: str) -> ServiceClient:
    """A client of another service carrying the signed-in person's token."""
    return PortalComponents.current().client(name, access_token())


def now() -> datetime:
    """The process's clock (shared.clock), read for the page being rendered."""
    return PortalComponents.current().clock()


def account() -> str | None:
    return session.get("account")


def role_required(role: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not session.get("role"):
                return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
            if session.get("role") != role:
                return render_template("error.html", status=403, message=(
                    "Cette page est réservée à un autre profil : connectez-vous avec le bon compte.")), 403
            return view(*args, **kwargs)
        return wrapper
    return decorator


def sign_in_again(message: str):
    """The session's tokens are no longer accepted: it ends, and a page says so."""
    session.end()
    return redirect(url_for("auth.expired"))
