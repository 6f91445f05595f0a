"""registrations service."""
