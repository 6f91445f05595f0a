"""What notifications keeps and reaches: its PostgreSQL tables (the queue, the read model of other
services' events, inboxes, letters, subscriptions), the households it reads from registrations over
HTTP, the SMTP relay, and the message templates."""
