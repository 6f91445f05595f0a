"""The registrations HTTP API, one module per audience: parents (applications, household), managers
(intake counters), services (a family's household); `schemas` the bodies, `errors` the problems."""
