"""What the notifications tests (integration and e2e) run against: a real SMTP server, the registrations
service over real HTTP (households are read from it), events built from the contracts' examples, and the
billing feed as allocation publishes it."""
from __future__ import annotations

import email
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask
from werkzeug.serving import make_server

from shared.events import Event, contract_for, make_event
from shared.kafka import Producer, RetryPolicy
from shared.topics import BILLING_FEED
from tests.support.servers import free_port

# Where links in the messages point, in every notifications test.
PORTAL = "https://famille.example.org"
# Three attempts (1 then 2 minutes apart) before a notification is set aside, instead of eight.
TEST_RETRY = RetryPolicy(max_attempts=3, first_backoff_s=60, max_backoff_s=3600)


class SmtpRecorder:
    """An SMTP server (aiosmtpd) on a free loopback port that keeps the messages it accepts. Told to,
    it answers the next ones `451 try again later`, as a busy relay does. `server_options` go to
    aiosmtpd's controller (`ssl_context`, `tls_context`, `authenticator`…); `sessions` keeps, per
    accepted message, whether it came over TLS and as whom."""

    def __init__(self, **server_options: Any) -> None:
        self.messages: list[EmailMessage] = []
        self.sessions: list[tuple[bool, Any]] = []
        self.refusals_left = 0
        self._controller = Controller(self, hostname="127.0.0.1", port=free_port(), **server_options)

    @property
    def port(self) -> int:
        return self._controller.port

    def refuse_next(self, count: int) -> None:
        self.refusals_left = count

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 — aiosmtpd's hook name
        if self.refusals_left > 0:
            self.refusals_left -= 1
            return "451 4.3.0 Mail server busy, try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        # The transport, not `session.ssl`: aiosmtpd sets that one after STARTTLS only, not on implicit TLS.
        self.sessions.append((server.transport.get_extra_info("ssl_object") is not None, session.auth_data))
        return "250 Message accepted for delivery"

    def to(self, recipient: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == recipient]

    def __enter__(self) -> SmtpRecorder:
        self._controller.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._controller.stop()


def text_of(mail: EmailMessage) -> str:
    """The plain-text body as written, without SMTP's CRLF line endings."""
    return mail.get_content().replace("\r\n", "\n")


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app behind a real HTTP server on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def event(event_type: str, **data: Any) -> Event:
    """An event of `event_type`: its contract's example with `data` in place (JSON values)."""
    contract = contract_for(event_type)
    return make_event(event_type, source="/tests", subject="tests",
                      data=contract.schema().load({**contract.example, **data}))


# The billing feed, as allocation publishes it: keyed by family account, with CloudEvents headers.

def confirmed(family_account: str, line: str, **data) -> Event:
    return event("registration.confirmed", family_account=family_account, line_id=f"reg-{line}", **data)


def cancelled(family_account: str, line: str, **data) -> Event:
    return event("registration.cancelled", family_account=family_account, line_id=f"rev-{line}",
                 reverses_line_id=f"reg-{line}", **data)


def publish_feed(settings, *events: Event) -> None:
    producer = Producer(settings)
    try:
        for each in events:
            producer.send_event(BILLING_FEED.name, each.data["family_account"], each).get(timeout=10)
    finally:
        producer.close()
