"""Print docs/events.md from the contract catalogue: `make docs` (which also writes docs/schemas/)."""
from __future__ import annotations

import json
import textwrap
from datetime import datetime, timezone

from shared.events import all_contracts, make_event

HEADER = """# Guichet events

Generated from `shared/contracts/` by `make docs`; a test fails when this file is stale.

Every event is a [CloudEvents 1.0](https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md)
JSON document in structured mode (Kafka header `content-type: application/cloudevents+json`, plus
`ce_type` and `ce_id` headers so consumers can route without parsing):

| attribute | meaning |
|---|---|
| `id` | unique per event; consumers deduplicate on it (redelivery is normal) |
| `type` | one of the types below |
| `source` | the service that emitted it, e.g. `/guichet/campaigns` |
| `subject` | the entity it is about, e.g. `campaigns/<uuid>` |
| `time` | when the state change was committed (UTC) |
| `schemaversion` | version of the `data` schema; additive changes keep it, breaking ones bump it |
| `data` | the payload, described per type below |

Delivery is at least once, ordered per message key. Producers write events through a
transactional outbox: an event exists if and only if its state change committed.
"""


def field_rows(schema) -> list[str]:
    rows = []
    for name, field in schema().fields.items():
        kind = type(field).__name__
        required = "yes" if field.required else "no"
        description = (field.metadata or {}).get("description", "")
        rows.append(f"| `{name}` | {kind} | {required} | {description} |")
    return rows


def render() -> str:
    parts = [HEADER]
    for contract in all_contracts():
        if contract.type.startswith("test."):
            continue
        parts.append(f"\n## `{contract.type}` (version {contract.version})\n")
        parts.append(textwrap.dedent(contract.description).strip() + "\n")
        parts.append(f"Topic `{contract.topic.name}` ({contract.topic.description}).\n")
        parts.append("| field | type | required | meaning |\n|---|---|---|---|")
        parts.extend(field_rows(contract.schema))
        if contract.example:
            example = make_event(contract.type, source="/guichet/example", subject="example",
                                 data=contract.schema().load(contract.example),
                                 id="00000000-0000-4000-8000-000000000000",
                                 time=datetime(2026, 2, 2, 0, 1, tzinfo=timezone.utc)).to_dict()
            parts.append("\n```json\n" + json.dumps(example, indent=2, ensure_ascii=False) + "\n```")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(render(), end="")
