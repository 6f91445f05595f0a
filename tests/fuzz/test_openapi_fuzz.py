"""Schemathesis against each service's own OpenAPI document, in process, with real backing servers:
no generated request may get a 5xx, and every documented response must match its schema.

Schemathesis' pytest plugin does not run under pytest 9 yet, so each operation's hypothesis
strategy is driven directly."""
import uuid
from importlib import import_module

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from deploy.catalogue import WEB_SERVICES
from shared.devtokens import issue_token
from shared.kafka import ensure_topics

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES_PER_OPERATION = 25
SERVICES = {service.name: service for service in WEB_SERVICES}
FUZZ = settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def fuzz_service(make_settings, service: str) -> list[str]:
    """Every operation of the service, fuzzed; returns the failures found."""
    settings_class = SERVICES[service].settings_class()
    # Intake's admission budgets would refuse a fuzzer's burst before validation: lifted where they exist.
    budgets = {name: 10**9 for name in ("intake_per_ip_per_minute", "intake_admissions_per_second",
                                        "intake_per_account_per_minute") if name in settings_class.__dataclass_fields__}
    service_settings = make_settings(service, settings_class, **budgets)
    ensure_topics(service_settings)
    app = import_module(f"services.{service}.app").create_app(service_settings)
    # Every role at once, so generated requests reach past authorisation into validation and the domain.
    token = issue_token(service_settings, "fuzz-family", ["manager", "parent", "service"])
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex,
                                            "If-Match": "*"}, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 — collect them all, then report
            failures.append(f"{operation.label}: {str(failure)[:1500]}")
    return failures


@pytest.mark.parametrize("service", ["campaigns", "registrations", "allocation", "notifications"])
def test_no_generated_request_gets_a_server_error_or_an_undocumented_response(make_settings, service):
    failures = fuzz_service(make_settings, service)
    assert not failures, "\n\n".join(failures)
