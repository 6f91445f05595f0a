"""Registrations' storage: PostgreSQL tables and repositories, and the Redis copies intake reads."""
