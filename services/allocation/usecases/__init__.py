"""The allocation use cases, one module each: draws (and dry runs), decisions on arrival, places after the
decision (answers, withdrawals, the waitlist), expiry, lottery seeds, and the places-given announcements.
Each runs in its caller's transaction or its own, writes its events to the outbox, and raises its own
exceptions (web/errors.py says which problem each is)."""
