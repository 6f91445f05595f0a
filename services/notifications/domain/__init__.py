"""The notifications rules in plain Python: what each event tells a family, what each message says, when
an offer is reminded. Standard library and `shared.domain` only."""
