"""The campaigns service's storage: its PostgreSQL tables and repository, the Redis cache in front of
the public catalogue, and the `campaign.*` events a change writes to the outbox."""
