"""The registrations service's own settings: intake's admission budgets and the guard keeper's grace."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.config import Settings, setting


@dataclass(frozen=True)
class RegistrationsSettings(Settings):
    # Intake's admission control (OWASP API4/API6), refused with 429 beyond these. The variable names are
    # the ones deploy/kubernetes's ConfigMap sets.
    intake_admissions_per_second: int = setting("INTAKE_ADMISSIONS_PER_SECOND", 3000, "int")  # all processes
    intake_per_ip_per_minute: int = setting("INTAKE_PER_IP_PER_MINUTE", 300, "int")  # schools and CGNAT share one
    intake_per_account_per_minute: int = setting("INTAKE_PER_ACCOUNT_PER_MINUTE", 20, "int")
    # How long Redis must have been empty before the guard keeper rebuilds it: submissions already past the
    # guard may still be on their way to the broker (bounded by the producer's 5 s delivery wait).
    guard_grace: timedelta = setting("GUICHET_GUARD_GRACE_SECONDS", timedelta(seconds=10), "seconds")
