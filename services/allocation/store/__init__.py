"""The allocation service's storage: its tables, the queries and writes on them, the mappers between
rows and the core's inputs and answers (`application_rows`, `campaign_copy`, `result_documents`), and
the events written to the outbox (`outbox_events`)."""
