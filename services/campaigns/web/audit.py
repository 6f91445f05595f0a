"""What the campaign audit read (`GET /campaigns/{id}/audit`, managers) reads and answers."""
from __future__ import annotations

from typing import Any

import marshmallow as ma

from shared.contracts.fields import described
from shared.schema_fields import Text


class AuditQuerySchema(ma.Schema):
    since = described(ma.fields.AwareDateTime, "only entries at or after this instant (ISO 8601 with offset)")
    until = described(ma.fields.AwareDateTime, "only entries before this instant (ISO 8601 with offset)")
    actor = described(Text, "only entries of this actor (a subject, or `system:<worker>`)",
                      validate=ma.validate.Length(min=1, max=255))
    format = described(ma.fields.String, "`csv` for a CSV export (same as `Accept: text/csv`), `json` otherwise",
                       validate=ma.validate.OneOf(["json", "csv"]))

    @ma.validates_schema
    def _range(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "since" in data and "until" in data and data["until"] <= data["since"]:
            raise ma.ValidationError("`until` must be after `since`.", field_name="until")


class AuditActorSchema(ma.Schema):
    subject = described(ma.fields.String, "the principal's subject, or `system:<worker>`", required=True)
    role = described(ma.fields.String, "the role it acted in (`manager`, `agent`, `system`…)", required=True)


class AuditTargetSchema(ma.Schema):
    type = described(ma.fields.String, "what was changed (`campaign`)", required=True)
    id = described(ma.fields.String, "its id", required=True)


class AuditEntrySchema(ma.Schema):
    chain = described(ma.fields.String, "the chain the entry belongs to (`campaign:<id>`)", required=True)
    seq = described(ma.fields.Integer, "its position in the chain, from 1", required=True)
    occurred_at = described(ma.fields.AwareDateTime, "when the change was made (UTC)",
                            required=True)
    actor = ma.fields.Nested(AuditActorSchema, required=True, metadata={"description": "who made the change"})
    on_behalf_of = described(ma.fields.String, "the family an agent acted for; null otherwise",
                             required=True, allow_none=True)
    action = described(ma.fields.String, "what was done (`campaign.edit`, `offer.edit`, `campaign.publish`…)",
                       required=True)
    target = ma.fields.Nested(AuditTargetSchema, required=True, metadata={"description": "what was changed"})
    changes = described(ma.fields.Dict, "each changed field: {\"before\": …, \"after\": …}; nested fields by dotted "
                                        "path (`offers.<id>.capacity`)", required=True)
    request_id = described(ma.fields.String, "the request's X-Request-ID; null for a worker's action",
                           required=True, allow_none=True)
    previous_hash = described(ma.fields.String, "SHA-256 (hex) of the chain's previous entry (64 zeros for the "
                                                "first)", required=True)
    hash = described(ma.fields.String, "SHA-256 (hex) of the previous hash and this entry's canonical content",
                     required=True)
