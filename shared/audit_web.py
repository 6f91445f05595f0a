"""The web side of the audit trail (shared/audit.py): the request's principal as an `Actor` for the use cases
(which never see Flask), and what every service's audit read shares (campaigns' `GET /campaigns/{id}/audit`,
registrations' `GET /agent/families/{account}/audit`, notifications' `GET /notifications/families/{account}/audit`):
its filters, its entry schema, and its answer as JSON or CSV (`Accept: text/csv` or `?format=csv`)."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import marshmallow as ma
from flask import Response, g, request

from shared.audit import CSV_COLUMNS, Actor, AuditEntry, csv_row, entry_view
from shared.auth import current_principal
from shared.contracts.fields import described
from shared.schema_fields import Text

CSV_MEDIA_TYPE = "text/csv"


def request_actor(*acting_roles: str, on_behalf_of: str | None = None) -> Actor:
    """The authenticated principal of this request, in the role it acts in (the first of `acting_roles` it has;
    the view's `require_roles` already checked it has one), with the request's id."""
    principal = current_principal()
    role = next((name for name in acting_roles if name in principal.roles), None)
    return Actor(subject=principal.subject, role=role or ",".join(sorted(principal.roles)) or "none",
                 on_behalf_of=on_behalf_of, request_id=g.get("request_id"))


def wants_csv(format_argument: str | None) -> bool:
    if format_argument is not None:
        return format_argument == "csv"
    best = request.accept_mimetypes.best_match(["application/json", CSV_MEDIA_TYPE])
    return best == CSV_MEDIA_TYPE


def csv_response(entries: Sequence[AuditEntry], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows([_inert(cell) for cell in csv_row(entry)] for entry in entries)
    return Response(buffer.getvalue(), mimetype=CSV_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _inert(cell: str) -> str:
    """A cell a spreadsheet would read as a formula (a request id or a name starting with =, +, - or @) is quoted."""
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def audit_answer(entries: Sequence[AuditEntry], format_argument: str | None,
                 filename: str) -> Response | list[dict[str, Any]]:
    """What an audit read view returns: the CSV export when asked for, the entries as JSON otherwise."""
    if wants_csv(format_argument):
        return csv_response(entries, filename)
    return [entry_view(entry) for entry in entries]


def audit_read_doc() -> dict[str, Any]:
    """The OpenAPI `responses` of an audit read: JSON entries or a CSV document."""
    return {"200": {"content": {"application/json": {"schema": AuditEntrySchema(many=True)},
                                CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}}}


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
    type = described(ma.fields.String, "what was changed (`campaign`, `application`, `household`, `letter`…)",
                     required=True)
    id = described(ma.fields.String, "its id", required=True)


class AuditEntrySchema(ma.Schema):
    chain = described(ma.fields.String, "the chain the entry belongs to (`campaign:<id>`, `family:<account>`)",
                      required=True)
    seq = described(ma.fields.Integer, "its position in the chain, from 1", required=True)
    occurred_at = described(ma.fields.AwareDateTime, "when the change was made (UTC)",
                            required=True)
    actor = ma.fields.Nested(AuditActorSchema, required=True, metadata={"description": "who made the change"})
    on_behalf_of = described(ma.fields.String, "the family an agent acted for; null otherwise",
                             required=True, allow_none=True)
    action = described(ma.fields.String, "what was done (`campaign.edit`, `offer.accept`, `letter.printed`…)",
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
