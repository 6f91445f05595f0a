"""The reference consumer of the billing feed: each family's monthly invoice preview.

An example for the city's downstream teams, not a Guichet service: it is not shipped in the wheel nor
deployed; run it with `python -m examples.billing_preview` (docs/billing-feed.md)."""
