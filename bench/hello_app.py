"""The hello-world baseline: the least a Flask app under gunicorn can do with the intake's request.

`gunicorn -c deploy/gunicorn.conf.py bench.hello_app:app` — the same settings as the services. It
reads the JSON body (as intake must) and answers 202 with a small JSON document. It echoes
`X-Request-ID` because the services do (`shared.observability`) and the bench's wrk script times
each request by it. `/healthz` only answers the few requests wrk sends after a run's last submission.
"""
from flask import Flask, jsonify, request

app = Flask("hello")


@app.post("/applications")
def accept():
    body = request.get_json()
    response = jsonify(status="received", campaign_id=body.get("campaign_id"))
    response.status_code = 202
    response.headers["X-Request-ID"] = request.headers.get("X-Request-ID", "")
    return response


@app.get("/healthz")
def healthz():
    return jsonify(status="alive")
