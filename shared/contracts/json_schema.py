"""JSON Schema (draft 2020-12) of each billing-feed event, generated from its marshmallow contract, so
a consumer in any language can validate what it reads.

`make docs` (or `python -m shared.contracts.json_schema`) rewrites `docs/schemas/`; a unit test fails
when the files no longer match the contracts.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from shared.config import REPO_ROOT
from shared.events import EventContract, all_contracts
from shared.events.envelope import SPEC_VERSION
from shared.topics import BILLING_FEED

SCHEMAS_DIR = REPO_ROOT / "docs" / "schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def file_name(contract: EventContract) -> str:
    return f"{contract.type}.v{contract.version}.schema.json"


def data_schema(contract: EventContract) -> dict[str, Any]:
    # OpenAPI 3.1 schemas are JSON Schema 2020-12; nested schemas are written in place, not as $ref.
    plugin = MarshmallowPlugin(schema_name_resolver=lambda schema: None)
    APISpec("guichet", "1", "3.1.0", plugins=[plugin])
    schema = plugin.converter.schema2jsonschema(contract.schema)
    # Within a version, fields may be added (docs/events.md): consumers must accept fields they do not know.
    schema["additionalProperties"] = True
    return schema


def event_schema(contract: EventContract) -> dict[str, Any]:
    """The whole CloudEvent as it is on the topic: envelope attributes and the contract's data."""
    return {
        "$schema": DRAFT,
        "$id": f"urn:guichet:event:{contract.type}:v{contract.version}",
        "title": f"{contract.type} (version {contract.version})",
        "description": contract.description,
        "type": "object",
        "required": ["specversion", "id", "type", "source", "subject", "time", "schemaversion", "data"],
        "properties": {
            "specversion": {"const": SPEC_VERSION},
            "id": {"type": "string", "minLength": 1, "description": "unique per event: deduplicate on it"},
            "type": {"const": contract.type},
            "source": {"type": "string", "description": "the service that emitted it"},
            "subject": {"type": "string", "description": "the entity it is about"},
            "time": {"type": "string", "format": "date-time", "description": "when the change was committed (UTC)"},
            "datacontenttype": {"const": "application/json"},
            "schemaversion": {"const": contract.version},
            "data": data_schema(contract),
        },
    }


def feed_contracts() -> list[EventContract]:
    """The contracts of the events on the billing feed, the topic published for other teams."""
    return sorted((contract for contract in all_contracts() if contract.topic == BILLING_FEED),
                  key=lambda contract: (contract.type, contract.version))


def rendered() -> dict[str, str]:
    """File name → content, for every event of the billing feed."""
    contracts = feed_contracts()
    return {file_name(contract): json.dumps(event_schema(contract), indent=2, ensure_ascii=False) + "\n"
            for contract in contracts}


def write(folder: Path = SCHEMAS_DIR) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in rendered().items():
        (folder / name).write_text(content)


if __name__ == "__main__":
    write()
