"""COPY for the draw's bulk writes: a draw of 100,000 applications writes several hundred thousand
rows in one transaction, and COPY takes them several times faster than an INSERT per parameter set.
Lines are written in COPY's text format here rather than value by value through the driver's
adapters, which for that many rows cost as much as the rest of the write."""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain, islice
from typing import Any, Protocol

import orjson
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import JSON, BigInteger, Boolean, Connection, DateTime, Integer, Table, Uuid

NULL = "\\N"
ROWS_PER_WRITE = 5_000
# Column types whose values' text never holds a tab, newline or backslash: written as str() gives it.
_PLAIN_TYPES = (Uuid, Integer, BigInteger, DateTime)


def copy_rows(connection: Connection, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Rows as the table's insert would take them (the same keys in every row): json values as Python
    data; text, numbers, UUIDs (or their text) and aware datetimes as themselves. `rows` may be made as they
    are read: PostgreSQL then takes each chunk while the next rows are made."""
    with copying(connection, table, rows):
        pass


@contextmanager
def copying(connection: Connection, table: Table, rows: Iterable[Mapping[str, Any]]) -> Iterator[None]:
    """`copy_rows`, the COPY left open while the caller's block runs: the writer thread sends the rows and
    PostgreSQL stores them meanwhile, on another core; leaving the block waits until they are stored (and raises if
    they could not be). The block must not use the connection."""
    rows = iter(rows)
    chunk = list(islice(rows, ROWS_PER_WRITE))
    if not chunk:
        yield
        return
    columns = list(chunk[0])
    formats = [_format_for(table.c[column].type) for column in columns]
    # The DBAPI connection under this SQLAlchemy connection: the COPY runs in the caller's transaction. The
    # queued writer sends from its own thread, so PostgreSQL takes one chunk while the next is formatted.
    with (connection.connection.driver_connection.cursor() as cursor,
          cursor.copy(_statement(table, columns), writer=QueuedLibpqWriter(cursor)) as copy):
        while chunk:
            copy.write(_text(chunk, columns, formats))
            chunk = list(islice(rows, ROWS_PER_WRITE))
        yield


class Copies(Protocol):
    def copy(self, table: Table, rows: Iterable[Mapping[str, Any]]) -> None: ...

    def copy_lines(self, table: Table, columns: Sequence[str], lines: Iterable[str]) -> None:
        """`lines` already in COPY's text format, each ending with a newline (`copy_json`, `NULL`):
        for a draw's hundreds of thousands of rows, where a Python call per value cost more than the values."""


class DirectCopies:
    """Each COPY done when asked, the caller waiting for it (`copy_rows`): for a few rows."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def copy(self, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
        copy_rows(self.connection, table, rows)

    def copy_lines(self, table: Table, columns: Sequence[str], lines: Iterable[str]) -> None:
        texts = _joined(lines)
        if (text := next(texts, None)) is None:
            return
        with (self.connection.connection.driver_connection.cursor() as cursor,
              cursor.copy(_statement(table, list(columns))) as copy):
            copy.write(text)
            for text in texts:
                copy.write(text)


@contextmanager
def copies_in_order(connection: Connection) -> Iterator[Copies]:
    """COPYs that PostgreSQL takes one after another, in the order asked, while the caller goes on: `copy` formats
    the rows and queues their text, a thread of its own sends each COPY in turn on the caller's connection (in its
    transaction). A draw asks for its run, then its decisions, places, waitlist entries and events part by part:
    PostgreSQL stores one part while Python makes the next, where each COPY waited for made Python wait for
    PostgreSQL and PostgreSQL for Python. Leaving the block waits until every COPY is stored, and raises if one
    could not be; the block must not use the connection otherwise. The queued text is held in memory until sent."""
    copies = _QueuedCopies(connection)
    try:
        yield copies
    except BaseException:
        copies.close(abandoned=True)
        raise
    copies.close(abandoned=False)


_END, _ABANDONED = object(), object()


class _Abandoned(Exception):
    """The caller failed while queueing a COPY's rows: that COPY is cancelled (the transaction with it)."""


class _QueuedCopies:
    def __init__(self, connection: Connection):
        self._driver = connection.connection.driver_connection
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._feeding: queue.SimpleQueue | None = None  # the texts of the COPY being queued, until its end
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._send, name="copies-in-order", daemon=True)
        self._thread.start()

    def copy(self, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
        rows = iter(rows)
        chunk = list(islice(rows, ROWS_PER_WRITE))
        if not chunk:
            return
        columns = list(chunk[0])
        formats = [_format_for(table.c[column].type) for column in columns]

        def texts() -> Iterator[str]:
            nonlocal chunk
            while chunk:
                yield _text(chunk, columns, formats)
                chunk = list(islice(rows, ROWS_PER_WRITE))
        self._queue(_statement(table, columns), texts())

    def copy_lines(self, table: Table, columns: Sequence[str], lines: Iterable[str]) -> None:
        texts = _joined(lines)
        if (first := next(texts, None)) is not None:
            self._queue(_statement(table, list(columns)), chain((first,), texts))

    def _queue(self, statement: sql.Composed, texts: Iterator[str]) -> None:
        self._feeding = queued = queue.SimpleQueue()
        self._jobs.put((statement, queued))
        for text in texts:
            if self._failure is not None:  # once a COPY failed, leaving the block raises its error
                break
            queued.put(text)
        queued.put(_END)
        self._feeding = None

    def close(self, abandoned: bool) -> None:
        if abandoned and self._feeding is not None:
            self._feeding.put(_ABANDONED)
        self._jobs.put(_END)
        self._thread.join()
        if self._failure is not None and not abandoned:
            raise self._failure

    def _send(self) -> None:
        try:
            with self._driver.cursor() as cursor:
                while (job := self._jobs.get()) is not _END:
                    statement, texts = job
                    with cursor.copy(statement) as copy:
                        while (text := texts.get()) is not _END:
                            if text is _ABANDONED:
                                raise _Abandoned()
                            copy.write(text)
        except BaseException as failure:  # noqa: BLE001 — raised in the caller's thread when it leaves the block
            self._failure = failure


def _joined(lines: Iterable[str]) -> Iterator[str]:
    """Lines by the `ROWS_PER_WRITE`, as one text each."""
    lines = iter(lines)
    while chunk := list(islice(lines, ROWS_PER_WRITE)):
        yield "".join(chunk)


def _statement(table: Table, columns: list[str]) -> sql.Composed:
    return sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.schema, table.name), sql.SQL(", ").join(map(sql.Identifier, columns)))


def _text(chunk: list[Mapping[str, Any]], columns: list[str], formats: list[Callable[[Any], str]]) -> str:
    return "".join("\t".join([NULL if (value := row[column]) is None else format_(value)
                              for column, format_ in zip(columns, formats)]) + "\n"
                   for row in chunk)


def _format_for(column_type: Any) -> Callable[[Any], str]:
    if isinstance(column_type, JSON):  # jsonb too
        return copy_json
    if isinstance(column_type, Boolean):
        return lambda value: "t" if value else "f"
    if isinstance(column_type, _PLAIN_TYPES):
        return _remembering_last(_plain_text)
    return _remembering_last(_escaped_text)


def _remembering_last(format_: Callable[[Any], str]) -> Callable[[Any], str]:
    """The same value in row after row (a draw's run, campaign and instant) is formatted once."""
    last_value, last_text = object(), ""

    def remembered(value: Any) -> str:
        nonlocal last_value, last_text
        if value is not last_value:
            last_value, last_text = value, format_(value)
        return last_text
    return remembered


def json_text(value: Any) -> str:
    """JSON text by orjson rather than json.dumps: a draw writes 100,000 explanations (about 150 MB)
    and a bundle of tens of megabytes, and orjson writes them several times faster. Dict keys that
    are not strings become strings, as with json.dumps: orjson's option for them costs a third more on every
    document, so it is asked for only by a document it refused without."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def copy_json(value: Any) -> str:
    """A json column's value in COPY's text format. JSON escapes every control character, so only its
    backslashes need COPY's escape."""
    return json_text(value).replace("\\", "\\\\")


def _plain_text(value: Any) -> str:
    if isinstance(value, str):  # e.g. a UUID's text
        return _escaped_text(value)
    return str(value)  # UUID, int, aware datetime: their text is what PostgreSQL reads back


def _escaped_text(value: Any) -> str:
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return str(value)
