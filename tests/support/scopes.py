"""Scoped managers in the tests (GUICHET_MANAGER_SCOPES, shared.auth): one mapping of groups to grants, and calls
made as a manager of some groups."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

SCOPES = "psv-team=kind:sport_vacances;conservatoire-team=kind:conservatoire_examen;direction=*"


def calls_as(app: Any, token_for: Callable[..., str]) -> Callable[..., Any]:
    """`call(method, path, *groups, role="manager")`: a request by a new principal of `role` in these groups."""
    def call(method: str, path: str, *groups: str, role: str = "manager") -> Any:
        token = token_for(role, f"{role}-{uuid.uuid4().hex[:6]}", groups=list(groups))
        return app.test_client().open(path, method=method, headers={"Authorization": f"Bearer {token}"})
    return call
