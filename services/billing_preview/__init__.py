"""The reference consumer of the billing feed: each family's monthly invoice preview."""
