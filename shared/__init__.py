"""What every Guichet service shares: settings, database, Kafka, Redis, auth, errors, events."""
