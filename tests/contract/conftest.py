"""The four API services under gunicorn, as `make run` starts them (tests/support/stack.py), for the contract
run from outside: no portal, no workers (the contract is the HTTP API's; nothing here waits on an event)."""
from __future__ import annotations

import pytest

from tests.support.stack import API_SERVICES, running_stack

# A fuzzer's burst is not a crowd: the admission budgets would refuse it before validation, which is what
# the contract run is about. The budgets themselves are tested in tests/integration.
NO_BUDGETS = {"INTAKE_PER_IP_PER_MINUTE": "1000000000", "INTAKE_PER_ACCOUNT_PER_MINUTE": "1000000000",
              "INTAKE_ADMISSIONS_PER_SECOND": "1000000000", "GUICHET_PUBLIC_REQUESTS_PER_MINUTE": "1000000000",
              "GUICHET_BUNDLE_DOWNLOADS_PER_MINUTE": "1000000000"}


@pytest.fixture(scope="package")
def api_stack(postgres_url, template_database, kafka_bootstrap, redis_url, dev_keys, oidc_provider,
              tmp_path_factory):
    with running_stack(postgres_url=postgres_url, template_database=template_database,
                       kafka_bootstrap=kafka_bootstrap, redis_url=redis_url, dev_keys=dev_keys,
                       provider=oidc_provider, logs=tmp_path_factory.mktemp("contract-logs"), prefix="contract",
                       services=API_SERVICES, workers=False, extra_env=NO_BUDGETS) as running:
        yield running


@pytest.fixture(scope="package")
def manager_token(api_stack) -> str:
    """A manager's access token from the provider's token endpoint, as a client script would get one."""
    account = api_stack.account("manager")
    return api_stack.provider.password_token(account.username, account.password)
