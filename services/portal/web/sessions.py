"""The portal's sessions live in Redis, keyed by a random id; the cookie carries only that id, signed. The
provider's tokens (access, refresh, ID) never reach the browser, and signing out deletes the session: the
cookie of a signed-out visit, replayed, opens nothing."""
from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

import redis
from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.datastructures import CallbackDict

COOKIE = "guichet_session"
KEY_PREFIX = "portal:session:"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial: dict[str, Any] | None = None, session_id: str | None = None):
        def on_update(_):
            self.modified = True
        super().__init__(initial or {}, on_update)
        self.session_id = session_id or secrets.token_urlsafe(32)
        self.modified = False
        self.discarded = False

    def renew(self) -> None:
        """A new id for the same person (after sign-in: a session id planted before it is worth nothing)."""
        self.discarded = True
        self.previous_id, self.session_id = self.session_id, secrets.token_urlsafe(32)
        self.modified = True

    def end(self) -> None:
        """Sign-out: the stored session is deleted and the cookie cleared."""
        self.clear()
        self.discarded = True
        self.previous_id = self.session_id
        self.modified = True


def secure_request(request: Request, forced: bool) -> bool:
    return forced or request.host.rsplit(":", 1)[0] not in LOCAL_HOSTS


class RedisSessionInterface(SessionInterface):
    def __init__(self, client: redis.Redis, secret_key: str, idle: timedelta, force_secure: bool):
        self.redis = client
        self.signer = URLSafeSerializer(secret_key, salt="guichet-portal-session")
        self.idle = idle
        self.force_secure = force_secure

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        signed = request.cookies.get(COOKIE)
        if signed:
            try:
                session_id = self.signer.loads(signed)
            except BadSignature:
                session_id = None
            if isinstance(session_id, str):
                stored = self.redis.get(KEY_PREFIX + session_id)
                if stored is not None:
                    return ServerSession(json.loads(stored), session_id)
        return ServerSession()

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:  # type: ignore[override]
        from flask import request

        previous = getattr(session, "previous_id", None)
        if session.discarded and previous:
            self.redis.delete(KEY_PREFIX + previous)
        if not session:
            if session.modified or session.discarded:
                response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax")
            return
        self.redis.set(KEY_PREFIX + session.session_id, json.dumps(dict(session)), ex=self.idle)
        response.set_cookie(COOKIE, self.signer.dumps(session.session_id), httponly=True, samesite="Lax", path="/",
                            secure=secure_request(request, self.force_secure))
        response.vary.add("Cookie")
