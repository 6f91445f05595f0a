"""The notifications HTTP API, by audience: parents (inbox, subscriptions) and managers (failures, letters)."""
