"""Application factory of the portal: server-rendered pages in French over the other services' APIs.

Built on `shared.web.create_service_app` (logs with request ids, /healthz, /readyz, /metrics); the
pages render their own HTML errors instead of problem+json.
"""
from __future__ import annotations

import hashlib
import logging
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from datetime import date, datetime
from typing import Any

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from shared.formatting import euros, long_date, paris_instant
from services.portal import auth, csrf, managers, parents
from services.portal.client import ApiError, ServiceClient
from services.portal.wording import APPLICATION_STATUSES, CAMPAIGN_STATUSES, KINDS, MODES
from shared.config import Settings
from shared.devtokens import ensure_dev_keys
from shared.health import Check
from shared.web import create_service_app

TITLE = "Guichet — portail"
DESCRIPTION = "Pages for parents and campaign managers (HTML, French); no API of its own."
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceUrls:
    campaigns: str = "http://127.0.0.1:8001"
    registrations: str = "http://127.0.0.1:8002"
    allocation: str = "http://127.0.0.1:8003"
    notifications: str = "http://127.0.0.1:8004"

    @classmethod
    def from_settings(cls, settings: Settings) -> "ServiceUrls":
        defaults = cls()
        return cls(**{name: settings.extra.get(f"GUICHET_{name.upper()}_URL") or getattr(defaults, name)
                      for name in ("campaigns", "registrations", "allocation", "notifications")})


def dev_sign_in_enabled(settings: Settings) -> bool:
    """GUICHET_PORTAL_DEV_SIGN_IN=1 (make run, the tests, compose): the sign-in page mints development
    tokens. Never in production, where a key able to sign tokens must not be within a web page's reach."""
    return settings.extra.get("GUICHET_PORTAL_DEV_SIGN_IN") == "1"


def secret_key(settings: Settings) -> str:
    """GUICHET_PORTAL_SECRET_KEY in production; with the development sign-in, one derived from the
    development signing key, so every gunicorn worker (and a restart) reads the same session cookies."""
    configured = settings.extra.get("GUICHET_PORTAL_SECRET_KEY")
    if configured:
        return configured
    if not dev_sign_in_enabled(settings):
        raise RuntimeError("set GUICHET_PORTAL_SECRET_KEY (or GUICHET_PORTAL_DEV_SIGN_IN=1 on a developer's machine)")
    return hashlib.sha256(b"guichet-portal-session:" + settings.jwt_private_key_file.read_bytes()).hexdigest()


def reachable(url: str) -> Check:
    def check() -> tuple[bool, str]:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                return response.status == 200, "ok"
        except Exception as exc:  # noqa: BLE001 — any failure means not ready
            return False, f"unreachable: {type(exc).__name__}"
    return check


def create_app(settings: Settings | None = None, urls: ServiceUrls | None = None) -> Flask:
    settings = settings or Settings.from_env("portal")
    urls = urls or ServiceUrls.from_settings(settings)
    if dev_sign_in_enabled(settings):
        ensure_dev_keys(settings.jwt_private_key_file, settings.jwt_public_key_file)
    app = create_service_app(settings, title=TITLE, description=DESCRIPTION,
                             readiness={name: reachable(url) for name, url in vars(urls).items()})
    # The shared factory names the app after the service; templates and static files live beside this module.
    app.root_path = str(Path(__file__).resolve().parent)
    app.secret_key = secret_key(settings)
    app.config["DEV_SIGN_IN"] = dev_sign_in_enabled(settings)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=settings.extra.get("GUICHET_PORTAL_SECURE_COOKIE") == "1")
    app.extensions["portal.urls"] = urls
    app.extensions["portal.clients"] = lambda name, bearer: ServiceClient(name, getattr(urls, name), bearer)
    for blueprint in (auth.blp, parents.blp, managers.blp):
        app.register_blueprint(blueprint)
    app.before_request(csrf.refuse_forged_posts)
    app.jinja_env.globals["csrf_field"] = csrf.hidden_field
    install_filters(app)
    install_error_pages(app)
    return app


def install_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        paris=lambda value: paris_instant(as_datetime(value), "fr") if value else "—",
        day=lambda value: long_date(date.fromisoformat(str(value)[:10]), "fr") if value else "—",
        euros=lambda cents: euros(int(cents), "fr"),
        application_status=lambda code: APPLICATION_STATUSES.get(code, code),
        campaign_status=lambda code: CAMPAIGN_STATUSES.get(code, code),
        mode=lambda code: MODES.get(code, code),
        kind=lambda code: KINDS.get(code, code),
        percent=lambda rate: f"{round(float(rate or 0) * 100)} %",
    )


def as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def install_error_pages(app: Flask) -> None:
    """Replace shared.errors' problem+json answers by pages, the portal's only format."""

    def page(status: int, message: str, retry_after: int | None = None):
        return render_template("error.html", status=status, message=message), status, (
            {"Retry-After": str(retry_after)} if retry_after else {})

    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        if error.status == 401:
            return auth.sign_in_again(error.message)
        return page(error.status if error.status >= 400 else 502, error.message, error.retry_after)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 400 and error.description == "csrf":
            return page(400, "Ce formulaire a expiré ou ne vient pas de ce site : rechargez la page et recommencez.")
        messages = {404: "Cette page n'existe pas.", 405: "Cette action n'est pas possible ici.",
                    400: "La demande n'a pas pu être comprise."}
        return page(error.code or 500, messages.get(error.code or 500, error.description or "Erreur."))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error", extra={"path": request.path})
        return page(500, "Une erreur s'est produite de notre côté ; elle est enregistrée. Réessayez dans un instant.")
