"""How a service attaches the parts its composition root built once per process, as Flask extensions do.

Each service's `bootstrap.py` defines a frozen dataclass of its parts (engine, clock, stores, use cases)
deriving from `Components`, builds it from the service's settings, and the app factory calls
`components.init_app(app)`; views reach it with `MyComponents.current()`. The worker builds the same
dataclass and passes its parts to the loops it runs: one wiring for both processes.
"""
from __future__ import annotations

from typing import ClassVar, Self

from flask import Flask, current_app


class Components:
    extension: ClassVar[str]  # the key under app.extensions, "guichet.<service>"

    def init_app(self, app: Flask) -> None:
        app.extensions[self.extension] = self

    @classmethod
    def current(cls) -> Self:
        return current_app.extensions[cls.extension]
