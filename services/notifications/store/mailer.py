"""Email over SMTP: one connection per message, plain text in UTF-8.

The Message-ID is derived from the delivery id, so if a crash makes us send a message again after
the server accepted it, the copy carries the same Message-ID and mail clients can fold the two.

With `starttls` or `tls` the relay's certificate is always verified (against `ca_file`, else the
system's CAs) and its name checked against `host`; there is no switch to skip that, since the
messages carry children's names and a password. A relay that does not offer STARTTLS is a failure,
never a fallback to plain SMTP.

Every failure, a refused login (535) included, raises: the courier counts the attempt and retries it
after its backoff like any other. A refused login is usually a password rotated on one side only;
the password file is read at each connection, so once the Secret is right the queued messages go
out at their next attempt, without a restart, instead of all ending up in the failures view.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from uuid import UUID

from services.notifications.settings import NotificationsSettings


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, timeout_seconds: float = 30.0, *,
                 security: str = "none", username: str | None = None, password_file: Path | None = None,
                 ca_file: Path | None = None):
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout_seconds = timeout_seconds
        if username and password_file is None:
            raise ValueError("an SMTP username needs a password file")
        self.security = security
        self.username = username
        self.password_file = password_file
        # Built once: a missing or unreadable CA bundle stops the worker at start rather than every email.
        self.tls = ssl.create_default_context(cafile=ca_file) if security != "none" else None

    @classmethod
    def from_settings(cls, settings: NotificationsSettings) -> SmtpMailer:
        return cls(settings.smtp_host, settings.smtp_port, settings.sender, security=settings.smtp_security,
                   username=settings.smtp_username, password_file=settings.smtp_password_file,
                   ca_file=settings.smtp_ca_file)

    def send(self, delivery_id: UUID, recipient: str, subject: str, body: str, language: str) -> None:
        """Returns once the server accepted the message; raises `smtplib.SMTPException` or `OSError` if not
        (`ssl.SSLError`, an `OSError`, when the certificate is not trusted)."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = f"<{delivery_id}@guichet>"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
        message.set_content(body)
        message["Content-Language"] = language  # after set_content, which replaces the Content-* headers
        with self._connect() as connection:
            if self.security == "starttls":
                connection.starttls(context=self.tls)  # raises SMTPNotSupportedError if not offered
            if self.username:
                connection.login(self.username, self._password())
            connection.send_message(message)

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_seconds, context=self.tls)
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds)

    def _password(self) -> str:
        # Only the line ending: `echo secret > file` and `kubectl create secret --from-file` keep one.
        return self.password_file.read_text().rstrip("\r\n")
