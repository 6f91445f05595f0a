"""Registrations' use cases: intake, the ledger's transitions, parents' answers, household changes."""
