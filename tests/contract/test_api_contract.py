"""The API contract, checked as a client would: schemathesis' command line, every check, from outside against
each service running under gunicorn (tests/contract/conftest.py), with a manager's token from the provider.

Any finding fails the test, except those schemathesis.toml documents as correct (428 for a missing If-Match).
A draft, a published and a cloned campaign exist first, so the responses the run reads carry the fields that
are null in some states (allocated_at, cloned_from_id, …) and not in others."""
from __future__ import annotations

import re
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from tests.support.pages import create_published_campaign, lottery_campaign
from tests.support.stack import API_SERVICES

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Bounded so that each service's run stays well under a minute on two shared cores. One worker: with several
# threads, hypothesis' lambda descriptions hit CPython 3.11's "AST constructor recursion depth mismatch".
EXAMPLES_PER_OPERATION = 15


@pytest.fixture(scope="module")
def campaigns_in_every_state(api_stack):
    campaigns = api_stack.manager("campaigns")
    published = create_published_campaign(api_stack, lottery_campaign(timedelta(days=2), "Contrat — publiée",
                                                                          closes_in=timedelta(days=5)))
    campaigns.post("/campaigns", lottery_campaign(timedelta(days=3), "Contrat — brouillon", closes_in=timedelta(days=5)),
                   headers={"Idempotency-Key": uuid.uuid4().hex})
    campaigns.post(f"/campaigns/{published['id']}/clone", {"shift_days": 364}, headers={"Idempotency-Key": uuid.uuid4().hex})
    return published


def run_schemathesis(url: str, token: str, report_dir: Path) -> subprocess.CompletedProcess:
    argv = [str(SCHEMATHESIS), "--config-file", str(CONFIG), "--no-color", "run", f"{url}/openapi.json",
            "--checks", "all", "-H", f"Authorization: Bearer {token}",
            "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", "20", "--workers", "1",
            "--report", "junit", "--report-dir", str(report_dir)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("service", API_SERVICES)
def test_schemathesis_finds_nothing_against_the_running_service(api_stack, manager_token, campaigns_in_every_state,
                                                                service, tmp_path):
    done = run_schemathesis(api_stack.urls[service], manager_token, tmp_path)
    output = done.stdout + done.stderr
    print(output)  # shown by pytest on failure, or with -s
    assert done.returncode == 0, output[-20000:]
    counted = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counted and int(counted[1]) == int(counted[2]) > 0, output[-5000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", output)
    assert selected and selected[1] == selected[2], output[-5000:]


def fetch(method: str, url: str, token: str | None = None) -> requests.Response:
    return requests.request(method, url, timeout=10, headers={"Authorization": f"Bearer {token}"} if token else {})


@pytest.mark.parametrize("service", API_SERVICES)
def test_a_405_names_the_allowed_methods(api_stack, service):
    answer = fetch("PATCH", f"{api_stack.urls[service]}/openapi.json")
    assert answer.status_code == 405
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert {m.strip() for m in answer.headers["Allow"].split(",")} == {"GET", "HEAD", "OPTIONS"}


def test_the_campaign_document_declares_what_can_be_null_and_the_if_match_it_takes(api_stack):
    document = fetch("GET", f"{api_stack.urls['campaigns']}/openapi.json").json()
    properties = document["components"]["schemas"]["Campaign"]["properties"]
    draft = api_stack.manager("campaigns").post("/campaigns", lottery_campaign(timedelta(days=3), "Contrat — nuls",
                                                                               closes_in=timedelta(days=5)),
                                                headers={"Idempotency-Key": uuid.uuid4().hex}).data
    nulls = {name for name, value in draft.items() if value is None}
    assert {"published_at", "allocated_at", "archived_at", "cloned_from_id", "closed_early_at"} <= nulls
    for name in nulls:
        assert properties[name].get("nullable") is True, name
    if_match = next(p for p in document["paths"]["/campaigns/{campaign_id}"]["patch"]["parameters"]
                    if p["name"] == "If-Match")
    assert re.fullmatch(if_match["schema"]["pattern"], '"3"')
    assert not re.fullmatch(if_match["schema"]["pattern"], "*")
