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
    # Load shedding (docs/registrations.md#load-shedding): submissions one process serves at once, beyond which a
    # submission is refused at once with 503 + Retry-After. 0: no bound but the worker's threads. Deployments set it
    # below GUICHET_THREADS, from measurement (docs/PERFORMANCE.md#load-shedding).
    intake_max_in_flight: int = setting("INTAKE_MAX_IN_FLIGHT", 0, "int")  # per process
    # How long Redis must have been empty before the guard keeper rebuilds it: submissions already past the
    # guard may still be on their way to the broker (bounded by the producer's 5 s delivery wait).
    guard_grace: timedelta = setting("GUICHET_GUARD_GRACE_SECONDS", timedelta(seconds=10), "seconds")
    # Records the decisions consumer takes per poll, applied in one transaction and committed once: a draw sends
    # one `allocation.decided` per application (docs/PERFORMANCE.md, "Close to families").
    decisions_max_poll_records: int = setting("GUICHET_DECISIONS_MAX_POLL_RECORDS", 2000, "int")
    # The waiting room (docs/registrations.md#the-waiting-room): the key admission tokens and room seeds are derived
    # from (every intake process must share it; unset, one is drawn once and kept in Redis), how long a token
    # lives, and how long an admitted family may take to apply before its admission lapses.
    waiting_room_secret: str | None = setting("GUICHET_WAITING_ROOM_SECRET", None)
    admission_token_ttl: timedelta = setting("GUICHET_ADMISSION_TOKEN_SECONDS", timedelta(minutes=10), "seconds")
    admission_window: timedelta = setting("GUICHET_ADMISSION_WINDOW_SECONDS", timedelta(minutes=30), "seconds")
    # Polls a second all the pages of one campaign's room may send together: the server lengthens each page's
    # interval with the crowd (3 to 60 s, docs/registrations.md#the-waiting-room). Joins and polls one process
    # answers at once, before Flask; beyond, 503 + Retry-After at once (docs/PERFORMANCE.md#waiting-room-poll).
    waiting_room_polls_per_second: float = setting("WAITING_ROOM_POLLS_PER_SECOND", 100.0, "float")
    waiting_room_max_in_flight: int = setting("WAITING_ROOM_MAX_IN_FLIGHT", 4, "int")  # per process; 0: no bound
    # Retention (docs/privacy.md, the register of processing): enforced by `python -m services.registrations.purge`.
    application_retention: timedelta = setting("GUICHET_APPLICATION_RETENTION_SECONDS", timedelta(days=3 * 365),
                                               "seconds")  # after the campaign's close
    removed_child_retention: timedelta = setting("GUICHET_REMOVED_CHILD_RETENTION_SECONDS", timedelta(days=90),
                                                 "seconds")  # after its removal, once no application names it
    inbox_retention: timedelta = setting("GUICHET_INBOX_RETENTION_SECONDS", timedelta(days=60), "seconds")
