"""The request's id in the logs of layers answered before Flask (registrations' fast paths), and the same id in
Flask's hook and the answer."""
from __future__ import annotations

import logging

from flask import Flask, g
from werkzeug.test import Client

from shared.observability import REQUEST_ID_HEADER, RequestIdScope, _RequestIdFilter, install_request_tracking

log = logging.getLogger("tests.request_id_scope")


class Collected(logging.Handler):
    def __init__(self):
        super().__init__()
        self.addFilter(_RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def service_with_a_layer_before_flask() -> tuple[Flask, list[str]]:
    """As registrations composes it: Flask inside a scope, a layer of its own around that, a scope outermost."""
    app = Flask("scoped")
    app.wsgi_app = RequestIdScope(app.wsgi_app)
    install_request_tracking(app, "scoped")
    seen_by_flask: list[str] = []

    @app.get("/by-flask")
    def by_flask():
        seen_by_flask.append(g.request_id)
        log.warning("inside Flask")
        return {"ok": True}

    flask_wsgi = app.wsgi_app

    def answered_before_flask(environ, start_response):
        log.warning("before Flask")
        if environ["PATH_INFO"] == "/fast":
            start_response("202 ACCEPTED", [("Content-Type", "application/json"),
                                            (REQUEST_ID_HEADER, environ["HTTP_X_REQUEST_ID"])])
            return [b"{}"]
        return flask_wsgi(environ, start_response)

    app.wsgi_app = RequestIdScope(answered_before_flask)
    return app, seen_by_flask


def test_a_layer_before_flask_logs_the_id_the_answer_gives():
    handler = Collected()
    log.addHandler(handler)
    try:
        app, seen_by_flask = service_with_a_layer_before_flask()
        client = Client(app)
        fast = client.get("/fast", headers={REQUEST_ID_HEADER: "client-chosen-1"})
        slow = client.get("/by-flask")  # no id from the client: one is made, once
        log.warning("outside any request")
    finally:
        log.removeHandler(handler)

    ids = [(record.getMessage(), record.request_id) for record in handler.records]
    made = slow.headers[REQUEST_ID_HEADER]
    assert fast.headers[REQUEST_ID_HEADER] == "client-chosen-1"
    assert len(made) == 32 and made != "client-chosen-1"
    assert ids == [("before Flask", "client-chosen-1"),
                   ("before Flask", made), ("inside Flask", made),
                   ("outside any request", None)]
    assert seen_by_flask == [made], "Flask's hook keeps the id the outer layer decided"


def test_an_insane_client_id_is_replaced_before_any_layer_sees_it():
    handler = Collected()
    log.addHandler(handler)
    try:
        app, _ = service_with_a_layer_before_flask()
        answer = Client(app).get("/fast", headers={REQUEST_ID_HEADER: "x" * 500})
    finally:
        log.removeHandler(handler)
    assert answer.headers[REQUEST_ID_HEADER] != "x" * 500
    assert handler.records[0].request_id == answer.headers[REQUEST_ID_HEADER]
