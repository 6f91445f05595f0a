"""The web side of the audit trail (shared/audit.py): the request's principal as an `Actor` for the use cases
(which never see Flask), and an audit read answered as JSON or CSV (`Accept: text/csv` or `?format=csv`)."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from flask import Response, g, request

from shared.audit import CSV_COLUMNS, Actor, AuditEntry, csv_row
from shared.auth import current_principal

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
