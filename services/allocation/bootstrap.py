"""Wires the allocation service's parts once per process; views find them through `components()`."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Engine

from shared.clock import Clock
from shared.idempotency import IdempotencyStore
from shared.runtime import Runtime

EXTENSION = "guichet.allocation"


@dataclass(frozen=True)
class Components:
    engine: Engine
    clock: Clock
    idempotency: IdempotencyStore


def build_components(runtime: Runtime, clock: Clock) -> Components:
    return Components(runtime.engine, clock, IdempotencyStore(runtime.redis))


def components() -> Components:
    return current_app.extensions[EXTENSION]
