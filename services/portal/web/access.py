"""Who is signed in, what a page requires of them, and the other services' APIs carrying their token.
The token lives in Flask's signed session cookie (see `sign_in`)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime

from flask import flash, redirect, request, session, url_for

from services.portal.bootstrap import PortalComponents
from services.portal.client.api import ServiceClient


def client(name: str) -> ServiceClient:
    """A client of another service carrying the signed-in person's token."""
    return PortalComponents.current().client(name, session.get("token"))


def now() -> datetime:
    """The process's clock (shared.clock), read for the page being rendered."""
    return PortalComponents.current().clock()


def account() -> str | None:
    return session.get("account")


def role_required(role: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if session.get("role") != role:
                flash("Connectez-vous pour continuer." if not session.get("role")
                      else "Cette page est réservée à un autre profil : connectez-vous avec le bon compte.")
                return redirect(url_for("auth.sign_in", next=request.path))
            return view(*args, **kwargs)
        return wrapper
    return decorator


def sign_in_again(message: str):
    session.clear()
    flash(message)
    return redirect(url_for("auth.sign_in"))
