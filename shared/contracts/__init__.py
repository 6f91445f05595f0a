"""The catalogue of Guichet's event contracts; each module registers the events of one domain.

`docs/events.md` is generated from this catalogue (`make docs`), so the documentation cannot
drift from the schemas that producers and consumers check.
"""
from shared.contracts import allocation, applications, campaigns, lottery  # noqa: F401
