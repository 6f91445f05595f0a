"""The portal's one way to the other services: JSON over HTTP with a timeout.

Every refusal becomes an `ApiError` carrying the problem+json answer (RFC 9457) and a message in
plain French (`wording.plain_message`), so views only decide what to show, never how to parse.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from services.portal.wording import field_message, plain_message

TIMEOUT_SECONDS = 5.0
# A second press of "submit" while the first is still being answered: the service says so (409 +
# Retry-After: 1); waiting for it and asking again returns the first answer, replayed.
IN_FLIGHT_RETRIES = 5
# A streamed file (a family's supporting document) is passed on in pieces of this size.
STREAM_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def data(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Streamed:
    """A file answered by a service, read as it comes (`ServiceClient.stream`)."""
    status: int
    headers: Mapping[str, str]
    response: Any  # the open http.client.HTTPResponse

    def chunks(self, size: int = STREAM_CHUNK_BYTES) -> Iterator[bytes]:
        try:
            while chunk := self.response.read(size):
                yield chunk
        finally:
            self.response.close()


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    problem: dict[str, Any] = field(default_factory=dict)
    retry_after: int | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    @property
    def field_errors(self) -> dict[str, str]:
        """Field (dotted path) → what is wrong with it, in French."""
        found: dict[str, str] = {}
        for error in self.problem.get("errors") or []:
            name = str(error.get("field") or "body")
            found.setdefault(name, field_message(error))
        return found


class ServiceClient:
    """One service's API. Built once per process without a token (bootstrap); each request asks for a
    copy carrying the signed-in person's token (`with_bearer`)."""

    def __init__(self, name: str, base_url: str, bearer: str | None = None, timeout: float = TIMEOUT_SECONDS,
                 path_urls: Mapping[str, str] | None = None):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.bearer = bearer
        self.timeout = timeout
        # Path prefix → the base URL of the processes that serve those paths instead (registrations' waiting room
        # on processes of its own: PortalSettings.path_urls).
        self.path_urls = {prefix: url.rstrip("/") for prefix, url in (path_urls or {}).items()}

    def with_bearer(self, bearer: str | None) -> ServiceClient:
        return ServiceClient(self.name, self.base_url, bearer, self.timeout, self.path_urls)

    def url_of(self, path: str) -> str:
        """The absolute URL of `path`: on the processes its prefix names, else on the service's base URL."""
        for prefix, base_url in self.path_urls.items():
            if path.startswith(prefix):
                return base_url + path
        return self.base_url + path

    def get(self, path: str, query: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> Answer:
        return self.call("GET", path, query=query, headers=headers)

    def post(self, path: str, body: Any = None, headers: Mapping[str, str] | None = None) -> Answer:
        return self.call("POST", path, body=body, headers=headers)

    def call(self, method: str, path: str, *, body: Any = None, query: Mapping[str, Any] | None = None,
             headers: Mapping[str, str] | None = None) -> Answer:
        url = self.url_of(path)
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        sent = {"Accept": "application/json, text/csv", **(headers or {})}
        if self.bearer:
            sent["Authorization"] = f"Bearer {self.bearer}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        for attempt in range(IN_FLIGHT_RETRIES + 1):
            try:
                return self._send(urllib.request.Request(url, data=data, method=method, headers=sent))
            except ApiError as error:
                if error.code != "idempotency-key-in-flight" or attempt == IN_FLIGHT_RETRIES:
                    raise
                time.sleep(error.retry_after or 1)
        raise AssertionError("unreachable")

    def upload(self, path: str, content: bytes, query: Mapping[str, Any] | None = None) -> Answer:
        """POST a file as the request's body (the services read its type from the content, so it goes as
        application/octet-stream), its fields in the query."""
        url = self.url_of(path) + ("?" + urlencode({k: v for k, v in query.items() if v is not None})
                                      if query else "")
        sent = {"Accept": "application/json", "Content-Type": "application/octet-stream"}
        if self.bearer:
            sent["Authorization"] = f"Bearer {self.bearer}"
        return self._send(urllib.request.Request(url, data=content, method="POST", headers=sent))

    def stream(self, path: str) -> Streamed:
        """GET a file without holding it whole: its status and headers now, its bytes as they are read (the
        answer stays open until `chunks` is exhausted or closed). A refusal is an `ApiError`, as for `call`."""
        sent = {"Accept": "*/*"}
        if self.bearer:
            sent["Authorization"] = f"Bearer {self.bearer}"
        try:
            response = urllib.request.urlopen(urllib.request.Request(self.url_of(path), headers=sent),
                                              timeout=self.timeout)
        except urllib.error.HTTPError as error:
            raise problem_error(error.code, dict(error.headers), error.read()) from None
        except (OSError, TimeoutError) as error:
            raise ApiError(503, "service-unreachable", plain_message(503, "service-unreachable", {}),
                           {"detail": f"{self.name}: {error}"}, retry_after=3) from None
        return Streamed(response.status, dict(response.headers), response)

    def _send(self, request: urllib.request.Request) -> Answer:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            raise problem_error(error.code, dict(error.headers), error.read()) from None
        except (OSError, TimeoutError) as error:
            raise ApiError(503, "service-unreachable", plain_message(503, "service-unreachable", {}),
                           {"detail": f"{self.name}: {error}"}, retry_after=3) from None


def problem_error(status: int, headers: Mapping[str, str], body: bytes) -> ApiError:
    try:
        problem = json.loads(body) if body else {}
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    code = str(problem.get("code") or f"http-{status}")
    retry_after = _seconds(headers.get("Retry-After") or problem.get("retry_after"))
    return ApiError(status, code, plain_message(status, code, problem, retry_after), problem, retry_after)


def _seconds(value: Any) -> int | None:
    try:
        return max(0, int(float(value)))
    except (TypeError, ValueError):
        return None
