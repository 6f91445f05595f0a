"""The portal is ready when the services it calls answer: one readiness check per service's /healthz."""
from __future__ import annotations

import urllib.request

from shared.health import Check


def reachable(url: str) -> Check:
    def check() -> tuple[bool, str]:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                return response.status == 200, "ok"
        except Exception as exc:  # noqa: BLE001 — any failure means not ready
            return False, f"unreachable: {type(exc).__name__}"
    return check
