"""Helpers for the supporting documents' tests (issue 16): small files of each accepted format, a stream that
counts what was read of it, and what the database holds of the documents."""
from __future__ import annotations

import io
from urllib.parse import urlencode

from sqlalchemy import Engine, func, select, text

from services.registrations.store.tables import documents

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


class CountingStream(io.RawIOBase):
    """`size` bytes of a PDF-looking body, counting how many of them the server read."""

    def __init__(self, size: int):
        self.size, self.read_bytes, self._position = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the stream: seeking reads nothing
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._position = self.size if whence == io.SEEK_END else offset
        return self._position

    def readinto(self, buffer) -> int:
        count = max(0, min(len(buffer), self.size - self._position))
        buffer[:count] = (PDF * (count // len(PDF) + 1))[:count]
        self._position += count
        self.read_bytes += count
        return count


def query(**fields) -> str:
    return urlencode({name: value for name, value in fields.items() if value is not None})


def stored_documents(engine: Engine, family_account: str | None = None) -> int:
    with engine.connect() as connection:
        where = [] if family_account is None else [documents.c.family_account == family_account]
        return connection.execute(select(func.count()).select_from(documents).where(*where)).scalar_one()


def large_objects(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM pg_largeobject_metadata")).scalar_one()
