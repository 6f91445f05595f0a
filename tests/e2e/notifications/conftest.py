"""The e2e test runs registrations (API and worker loops), the allocation and notifications workers as
processes, the notifications API and the billing preview's consumer, all on the real broker."""
from tests.integration.notifications.conftest import households_url, smtp  # noqa: F401 — fixtures
from tests.integration.registrations.conftest import registrations  # noqa: F401 — fixture
