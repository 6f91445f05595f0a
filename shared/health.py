"""Readiness checks: each answers (ready, detail) without raising."""
from __future__ import annotations

from collections.abc import Callable

import redis
from sqlalchemy import Engine

from shared.db import ping

Check = Callable[[], tuple[bool, str]]


def database_check(engine: Engine) -> Check:
    def check() -> tuple[bool, str]:
        try:
            ping(engine)
            return True, "ok"
        except Exception as exc:  # noqa: BLE001 — any failure means not ready
            return False, f"database unreachable: {type(exc).__name__}"
    return check


def redis_check(client: redis.Redis) -> Check:
    def check() -> tuple[bool, str]:
        try:
            client.ping()
            return True, "ok"
        except Exception as exc:  # noqa: BLE001
            return False, f"redis unreachable: {type(exc).__name__}"
    return check


def run_checks(checks: dict[str, Check], serving_without: frozenset[str] = frozenset()
               ) -> tuple[str, dict[str, dict[str, object]]]:
    """("ready" | "degraded" | "unready", each check's result). A failed check named in
    `serving_without` leaves the service degraded but in its load balancer: it still serves its main
    path, and answers 503 with Retry-After where that dependency is needed."""
    results = {}
    for name, check in checks.items():
        ready, detail = check()
        results[name] = {"ready": ready, "detail": detail}
    failed = {name for name, result in results.items() if not result["ready"]}
    if not failed:
        return "ready", results
    return ("degraded" if failed <= serving_without else "unready"), results
