"""Agents read a family's audit trail (issue 16, item 3): what agents did for the family, before → after, with
their reasons (the chain `family:<account>`, store/audit.py), filtered by time and actor, as JSON or CSV.

The same rules as the agents' other reads (web/agents.py): role agent (a parent's token 403), an unknown family
404; only the family's own chain is read, so another family's entries never appear.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.store.audit import family_entries
from services.registrations.web.agents import FAMILY, PROBLEM, acting_for, agents_only
from shared.audit_web import AuditEntrySchema, AuditQuerySchema, audit_answer, audit_read_doc

blp = Blueprint("agent-audit", __name__, url_prefix="/agent",
                description="City agents read a family's audit trail: who acted for it, what changed and why.")


@blp.route(f"/families/{FAMILY}/audit")
class FamilyAudit(MethodView):
    @agents_only
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    @blp.doc(responses=audit_read_doc())
    @blp.alt_response(404, description="Unknown family (family-not-found)", **PROBLEM)
    def get(self, query, family_account: str):
        """What agents did for the family, in chain order: its audit trail (docs/audit.md)

        Filtered by time (`since` inclusive, `until` exclusive) and by actor; `Accept: text/csv` or `?format=csv`
        gives a CSV export, the changes as JSON in one column.
        """
        acting_for(family_account)
        with RegistrationsComponents.current().engine.connect() as connection:
            entries = family_entries(connection, family_account, since=query.get("since"), until=query.get("until"),
                                     actor=query.get("actor"))
        return audit_answer(entries, query.get("format"), "audit-family.csv")
