"""Email over SMTP: one connection per message, plain text in UTF-8.

The Message-ID is derived from the delivery id, so if a crash makes us send a message again after
the server accepted it, the copy carries the same Message-ID and mail clients can fold the two.
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate
from uuid import UUID


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, timeout_seconds: float = 30.0):
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout_seconds = timeout_seconds

    def send(self, delivery_id: UUID, recipient: str, subject: str, body: str, language: str) -> None:
        """Returns once the server accepted the message; raises `smtplib.SMTPException` or `OSError` if not."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = f"<{delivery_id}@guichet>"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
        message.set_content(body)
        message["Content-Language"] = language  # after set_content, which replaces the Content-* headers
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as connection:
            connection.send_message(message)
