"""The portal's way to the four services it reads and writes: their HTTP APIs (`api`) and whether they
answer (`readiness`)."""
