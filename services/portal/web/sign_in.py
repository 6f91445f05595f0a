"""Signing in through the city's OpenID Connect provider (Keycloak locally): authorization code + PKCE with
Authlib's Flask client (state, nonce and the ID token checked by it), the tokens kept server-side in the
session (web/sessions.py), refreshed before they expire, and sign-out ending the provider's session too
(RP-initiated logout). The portal's pages then carry the person's access token to the services' APIs."""
from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, redirect, render_template, request, session, url_for

from services.portal.settings import PortalSettings
from shared.errors import Unauthorized

blp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)
HOME = {"parent": "parents.campaigns", "manager": "managers.campaigns", "agent": "agents.search"}
# Roles a person may hold, in the order the portal picks its pages by: a session has one profile and one menu. A
# manager who is also an agent (manager-demo) gets the managers' pages, the wider rights; the counter is served
# with an agent's account. An agent's work account is never taken for a family's, even with `parent` on it.
PORTAL_ROLES = ("manager", "agent", "parent")
# An access token this close to its expiry is refreshed before a page uses it.
REFRESH_AHEAD_SECONDS = 30


class SessionExpired(Exception):
    """The provider would not refresh the session's tokens: the person signs in again."""


def install_sign_in(app: Flask, settings: PortalSettings) -> None:
    oauth = OAuth(app)
    oauth.register("city", client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
                   server_metadata_url=f"{settings.oidc_issuer.rstrip('/')}/.well-known/openid-configuration",
                   client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"})
    app.extensions["guichet.portal.oauth"] = oauth


def _provider():
    return current_app.extensions["guichet.portal.oauth"].city


def safe_next(target: str | None) -> str | None:
    """A path of this site to go back to after signing in, or None: never another origin (`//evil`, `/\\evil`,
    `/%09/evil`, `https://…`), nothing but a normalised absolute path and its query."""
    if not target:
        return None
    decoded = unquote(target)  # normalised first: `/%09/evil` must be judged as the browser would read it
    if any(ord(c) < 0x21 or c in "\\\x7f" for c in target + decoded) or decoded.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@blp.get("/")
def home():
    return redirect(url_for(HOME[session["role"]]) if session.get("role") in HOME else url_for("auth.sign_in"))


@blp.get("/connexion")
def sign_in():
    """Straight to the provider's login page; back at `callback` with a code."""
    if session.get("role") in HOME:
        return redirect(safe_next(request.args.get("next")) or url_for(HOME[session["role"]]))
    session["next"] = safe_next(request.args.get("next"))
    return _provider().authorize_redirect(url_for("auth.callback", _external=True))


@blp.get("/connexion/retour")
def callback():
    if "error" in request.args:  # the person cancelled, or the provider refused
        session.end()
        return _failed("La connexion n'a pas abouti. Vous pouvez réessayer.")
    try:
        token = _provider().authorize_access_token()
    except OAuthError as error:
        # A wrong or replayed `state`, a replayed or unknown `code`, an ID token that does not check out.
        log.warning("sign-in refused", extra={"error": error.error, "description": error.description})
        session.end()
        return _failed("Ce lien de connexion n'est plus valable (déjà utilisé, ou venu d'ailleurs). Reconnectez-vous.")
    try:
        principal = current_app.extensions["guichet.token_verifier"].verify(token["access_token"])
    except Unauthorized:
        session.end()
        return _failed("Le compte parisien n'a pas pu être vérifié. Reconnectez-vous.")
    role = next((r for r in PORTAL_ROLES if r in principal.roles), None)
    if role is None:
        session.end()
        return render_template("error.html", status=403, message=(
            "Votre compte parisien n'a pas accès à ce portail (ni parent, ni agent de la Ville).")), 403
    userinfo: dict[str, Any] = token.get("userinfo") or {}
    target = session.get("next")
    session.clear()
    session.renew()  # a session id planted before sign-in is worth nothing after it
    session.update(account=userinfo.get("preferred_username") or principal.subject, subject=principal.subject,
                   role=role, tokens=_kept(token))
    return redirect(target or url_for(HOME[role]))


def _kept(token: dict[str, Any]) -> dict[str, Any]:
    expires_at = token.get("expires_at") or (time.time() + int(token.get("expires_in", 60)))
    return {"access_token": token["access_token"], "refresh_token": token.get("refresh_token"),
            "id_token": token.get("id_token"), "expires_at": int(expires_at)}


def _failed(message: str):
    return render_template("signed_out.html", title="Connexion impossible", message=message), 400


def access_token() -> str | None:
    """The signed-in person's access token, refreshed first when it is about to expire."""
    tokens = session.get("tokens")
    if not tokens:
        return None
    if tokens["expires_at"] - time.time() > REFRESH_AHEAD_SECONDS:
        return tokens["access_token"]
    if not tokens.get("refresh_token"):
        raise SessionExpired()
    try:
        refreshed = _provider().fetch_access_token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    except OAuthError as exc:
        raise SessionExpired() from exc
    session["tokens"] = {**_kept(refreshed), "id_token": refreshed.get("id_token") or tokens.get("id_token")}
    return session["tokens"]["access_token"]


@blp.post("/deconnexion")
def sign_out():
    return end_everywhere("auth.signed_out")


def end_everywhere(landing: str):
    """Forget the session here, then end the provider's too (on a shared computer, signing out of Guichet alone
    would sign the next person straight back in); its end-session endpoint comes back to the page `landing`."""
    id_token = (session.get("tokens") or {}).get("id_token")
    session.end()
    try:
        end_session = _provider().load_server_metadata().get("end_session_endpoint")
    except (OSError, ValueError):
        end_session = None
    if not end_session:
        return redirect(url_for(landing))
    query = {"post_logout_redirect_uri": url_for(landing, _external=True),
             "client_id": current_app.extensions["guichet.portal.oauth"].city.client_id}
    if id_token:
        query["id_token_hint"] = id_token
    return redirect(f"{end_session}?{urlencode(query)}")


@blp.get("/au-revoir")
def signed_out():
    return render_template("signed_out.html", title="Vous êtes déconnecté",
                           message="Vous êtes déconnecté de Guichet et de votre compte parisien.")


@blp.get("/session-expiree")
def expired():
    return render_template("signed_out.html", title="Votre session a expiré",
                           message="Pour votre sécurité, votre session a expiré. Reconnectez-vous pour continuer."), 401
