"""The e2e test runs registrations (API and worker), the notifications worker and API, and the billing
preview's consumer on the real broker; allocation's events are published as allocation would."""
from tests.integration.notifications.conftest import households_url, smtp  # noqa: F401 — fixtures
from tests.integration.registrations.conftest import registrations  # noqa: F401 — fixture
