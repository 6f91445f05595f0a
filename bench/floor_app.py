"""The floor of intake's libraries: a plain WSGI callable (no Flask) doing, with none of Guichet's logic, the library
work intake's fast path does for a submission, for `python -m bench.intake_floor`.

    FLOOR_LAYERS=redis,kafka,token gunicorn -c deploy/gunicorn.conf.py bench.floor_app:app

Per `POST /applications`, with the layers named in FLOOR_LAYERS (in this order, as intake does them; "none": only
the first):
- always: the body read and parsed with the standard library's json (as intake's fast path reads it);
- `token`: the bearer token verified by shared/auth's verifier, built as the services build it (RS256 with PyJWT,
  its cache of verified tokens included: the bench sends one fresh token per parent, as bench.run does);
- `redis`: one EVALSHA of a script with the shape of intake's gate (store/intake_gate.py `_ENTER`: the same number of
  keys and arguments for the submission's choices, and about its Redis commands, without its rules), through
  redis-py configured as the services configure it (shared.redis_client.make_redis, one pool per process);
- `kafka`: a record of `application.submitted`'s shape and size sent and waited for (`send(...).get()`) with
  intake's own producer (`Runtime.request_producer`: the settings cannot drift from intake's), to a topic of its
  own with the intake log's partitions, so the registrations worker never reads it;
- `redis` again after the acknowledgement: the second EVALSHA (the key's answer and the pending marker, two SETs).
Then 202 with a small JSON document and the request's X-Request-ID (the bench's wrk script times answers by it).
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from shared.auth import bearer_token, verifier_from_settings
from shared.config import Settings
from shared.kafka import cloudevent_headers
from shared.runtime import Runtime
from shared.topics import APPLICATION_SUBMISSIONS, TopicSpec

LAYERS = ("redis", "kafka", "token")
FLOOR_TOPIC = TopicSpec("guichet.bench-floor-submissions", APPLICATION_SUBMISSIONS.partitions,
                        "bench.intake_floor's records: the intake log's partitions, read by no one")
INTAKE_PATH = "/applications"

# Intake's gate in shape: KEYS 1 household, 2-3 admission counters, 4 idempotency record, 5 application id,
# 6 arrival sequence, 7-9 the guard's ready flag, rate counter and the child's active hold, then two per choice
# (held count, waiting list); ARGV 1 household digest, 2-4 limits and window, 5-6 in-flight marker and lifetime,
# 7-8 a fresh application id and lifetime, then the guard's three, then three per choice.
_ENTER = """
local household = redis.call('GET', KEYS[1])
for i = 2, 3 do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ARGV[4]) end
end
local stored = redis.call('GET', KEYS[4])
if stored then return {'stored', stored} end
redis.call('SET', KEYS[5], ARGV[7], 'NX', 'EX', ARGV[8])
local application_id = redis.call('GET', KEYS[5])
redis.call('GET', KEYS[7])
if redis.call('INCR', KEYS[8]) == 1 then redis.call('EXPIRE', KEYS[8], ARGV[11]) end
local held = 0
for i = 10, #KEYS, 2 do held = held + tonumber(redis.call('GET', KEYS[i]) or '0') end
redis.call('SET', KEYS[9], application_id, 'EX', ARGV[8])
redis.call('SET', KEYS[4], ARGV[5], 'EX', ARGV[6])
return {'reserved', application_id, redis.call('INCR', KEYS[6]), 'none', held}
"""

_ACKNOWLEDGED = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
return 1
"""


def parse_layers(text: str) -> frozenset[str]:
    """"redis,kafka,token", or "none": the body parsed and answered, gunicorn's and the WSGI call's floor."""
    layers = frozenset(name.strip() for name in text.split(",") if name.strip()) - {"none"}
    unknown = layers - set(LAYERS)
    if unknown or not text.strip():
        raise ValueError(f"FLOOR_LAYERS names {sorted(unknown) or 'nothing'}; expected some of {', '.join(LAYERS)}")
    if "kafka" in layers and "redis" not in layers:
        raise ValueError("the kafka layer comes on top of the redis one (FLOOR_LAYERS=redis,kafka)")
    return layers


def enter_keys_and_args(family: str, key: str, campaign_id: str, child_id: str, choices: list[str],
                        fresh_id: str) -> tuple[list[str], list]:
    """`_ENTER`'s keys and arguments, as many as intake's gate passes for these choices."""
    keys = [f"floor:household:{family}", "floor:admission:second", "floor:admission:ip", f"floor:record:{key}",
            f"floor:application:{family}:{key}", f"floor:arrival:{campaign_id}", "floor:ready", f"floor:rate:{family}",
            f"floor:active:{campaign_id}:{child_id}"]
    args: list = ["0" * 40, 1_000_000, 100_000_000, 60, "in-flight", 60, fresh_id, 172_800, 0, 5, 60]
    for offer_id in choices:
        keys += [f"floor:held:{campaign_id}:{offer_id}", f"floor:waitlist:{campaign_id}:{offer_id}"]
        args += [40, -1, offer_id]
    return keys, args


def submitted_record(application_id: str, family: str, body: dict, arrival_number: int) -> dict:
    """A record of `application.submitted`'s shape (envelope and data; usecases/intake.py `Events.submitted`), the
    household's and child's fields filled with values of the usual length."""
    now = datetime.now(timezone.utc)
    return {
        "specversion": "1.0", "id": str(uuid.uuid4()), "type": "application.submitted",
        "source": "/guichet/registrations", "subject": f"applications/{application_id}",
        "time": now.isoformat().replace("+00:00", "Z"), "datacontenttype": "application/json", "schemaversion": 1,
        "data": {
            "application_id": application_id, "campaign_id": body["campaign_id"], "family_account": family,
            "child": {"child_id": body["child_id"], "first_name": "Camille", "last_name": "Martin-Dupont",
                      "birth_date": "2016-04-12", "disability_allowance": False, "school": None},
            "household": {"single_parent": False, "quotient_tranche": 4, "quotient_justified_on": "2026-01-15",
                          "residence_arrondissement": 11, "postal_mail": False, "validated_facts": []},
            "choices": body["choices"], "keep_with_applications": body.get("keep_with_applications", []),
            "sworn_statement": body["sworn_statement"], "submitted_at": now.isoformat(),
            "hold": {"kind": "none", "offer_id": None, "position": None}, "arrival_number": arrival_number,
            "acted_by_agent": False, "agent_reason": None, "agent_subject": None,
        },
    }


class FloorApp:
    def __init__(self, layers: frozenset[str], runtime: Runtime | None = None, verifier=None,
                 broker_timeout_s: float = 10.0):
        self.layers = layers
        self.verifier = verifier if "token" in layers else None
        self.producer = runtime.request_producer if runtime is not None and "kafka" in layers else None
        self.headers = cloudevent_headers("application.submitted", "floor")
        self.broker_timeout_s = broker_timeout_s
        client = runtime.redis if runtime is not None and "redis" in layers else None
        self._enter = client.register_script(_ENTER) if client is not None else None
        self._acknowledged = client.register_script(_ACKNOWLEDGED) if client is not None else None

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != INTAKE_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self._answer(start_response, "200 OK", b'{"status":"alive"}\n', environ)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length).decode("utf-8"))
        key = environ.get("HTTP_IDEMPOTENCY_KEY", "")
        family = key
        if self.verifier is not None:
            family = self.verifier.verify(bearer_token(environ.get("HTTP_AUTHORIZATION", ""))).subject
        application_id = str(uuid.uuid4())
        if self._enter is not None:
            keys, args = enter_keys_and_args(family, key, body["campaign_id"], body["child_id"], body["choices"],
                                             application_id)
            outcome, application_id, *rest = self._enter(keys=keys, args=args)
            arrival_number = int(rest[0]) if outcome == "reserved" else 0
            if self.producer is not None:
                record = submitted_record(application_id, family, body, arrival_number)
                self.producer.send(FLOOR_TOPIC.name, family, record, self.headers).get(timeout=self.broker_timeout_s)
            self._acknowledged(keys=[f"floor:record:{key}", f"floor:pending:{family}:{application_id}"],
                               args=['{"status":202}', 86_400, "pending", 3_600])
        answer = json.dumps({"application_id": application_id, "status": "received"}).encode()
        return self._answer(start_response, "202 Accepted", answer, environ)

    @staticmethod
    def _answer(start_response: Callable, status: str, body: bytes, environ: dict) -> list[bytes]:
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                ("X-Request-ID", environ.get("HTTP_X_REQUEST_ID", ""))])
        return [body]


def create_app(env: dict[str, str] | None = None) -> FloorApp:
    env = dict(os.environ if env is None else env)
    layers = parse_layers(env.get("FLOOR_LAYERS", "redis"))
    settings = Settings.from_env("registrations", env)
    return FloorApp(layers, Runtime(settings), verifier_from_settings(settings) if "token" in layers else None)


if os.environ.get("FLOOR_LAYERS"):  # under gunicorn (imported in each worker after the fork: preload_app is off)
    app = create_app()
