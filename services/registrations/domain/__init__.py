"""Registrations domain: plain Python, no web, broker, cache or database."""
