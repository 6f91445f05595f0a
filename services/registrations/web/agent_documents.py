"""Agents and a family's supporting documents (issue 16, item 4): an agent uploads a document the family brought to
the counter, reads the family's documents, and validates a declared fact from one of them, with an effective date
and the reason every agent action carries.

The same rules as the agents' other actions (web/agents.py): role agent (a parent's or a manager's token 403), an
unknown family 404, one entry on the family's audit chain per change. Validating is idempotent: the same value,
date and document again changes nothing and answers the same.
"""
from __future__ import annotations

from uuid import UUID

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.domain.facts import VALIDATED_FACTS
from services.registrations.usecases.documents import Upload
from services.registrations.usecases.fact_validation import FactValidations, ValidationAsked
from services.registrations.web.agent_schemas import ReasonSchema, reason_field
from services.registrations.web.agents import FAMILY, PROBLEM, acting_for, agents_only
from services.registrations.web.parents.documents import (
    FILE_ANSWER,
    FILE_BODY,
    allow_document_bodies,
    documents,
    file_answer,
    read_body,
    upload_answer,
    upload_refusals,
)
from services.registrations.web.schemas import DocumentFieldsSchema, DocumentSchema, FactStateSchema
from shared.contracts.fields import described

blp = Blueprint("agent-documents", __name__, url_prefix="/agent",
                description="City agents upload and read a family's supporting documents and validate its declared "
                            "facts from them.")
FACT = f"<any({', '.join(VALIDATED_FACTS)}):fact>"


@blp.url_value_preprocessor
def _document_bodies(endpoint, values) -> None:
    allow_document_bodies(endpoint, values, frozenset({"agent-documents.FamilyDocuments"}))


class AgentDocumentFieldsSchema(DocumentFieldsSchema):
    reason = reason_field()


class FactValidationSchema(ReasonSchema):
    value = described(ma.fields.Raw, "the value the document shows: the tranche (1–10) for quotient_tranche, true or "
                      "false for the others; it becomes the household's", required=True)
    effective_from = described(ma.fields.Date, "the first day it applies (within a year of today)", required=True)
    document_id = described(ma.fields.UUID, "the family's supporting document", required=True)
    child_id = described(ma.fields.UUID, "the child, for disability_allowance", load_default=None)


@blp.route(f"/families/{FAMILY}/documents")
class FamilyDocuments(MethodView):
    @agents_only
    @blp.arguments(AgentDocumentFieldsSchema, location="query")
    @blp.response(201, DocumentSchema, description="stored (200: the family had already sent these bytes)")
    @blp.doc(requestBody=FILE_BODY)
    @upload_refusals
    @blp.alt_response(404, description="Unknown family, or no household declared yet", **PROBLEM)
    def post(self, fields, family_account: str):
        """Upload a supporting document the family brought, with a reason (the body is the file)"""
        actor = acting_for(family_account)
        reason = fields.pop("reason").strip()
        document, stored = documents().upload(actor, family_account, Upload(read_body(), **fields), reason)
        return upload_answer(document, stored, url_for("agent-documents.FamilyDocument", family_account=family_account,
                                                       document_id=document.document_id))

    @agents_only
    @blp.response(200, DocumentSchema(many=True))
    @blp.alt_response(404, description="Unknown family (family-not-found)", **PROBLEM)
    def get(self, family_account: str):
        """The family's supporting documents, oldest first"""
        acting_for(family_account)
        return documents().of_family(family_account)


@blp.route(f"/families/{FAMILY}/documents/<uuid:document_id>")
class FamilyDocument(MethodView):
    @agents_only
    @blp.doc(responses={200: FILE_ANSWER})
    @blp.alt_response(404, description="Unknown family, or no document of this family has this id", **PROBLEM)
    def get(self, family_account: str, document_id: UUID):
        """One of the family's supporting documents: its bytes"""
        acting_for(family_account)
        return file_answer(*documents().read(family_account, document_id))


@blp.route(f"/families/{FAMILY}/facts/{FACT}/validation")
class FamilyFactValidation(MethodView):
    @agents_only
    @blp.arguments(FactValidationSchema)
    @blp.response(200, FactStateSchema)
    @blp.alt_response(404, description="Unknown family or fact, or no household declared yet", **PROBLEM)
    @blp.alt_response(422, description="A field is wrong: the value for the fact, the child, the effective date, a "
                                       "document the family does not have (nothing changed)", **PROBLEM)
    def post(self, body, family_account: str, fact: str):
        """Validate one of the family's facts from a supporting document, with an effective date and a reason

        The household's value becomes the value validated (the quotient's justification date, today), in force
        from `effective_from`; `household.fact_validated` is published and the family's applications made from
        now on carry the fact as validated. A parent changing that value later makes it declared again. The same
        validation sent again changes nothing."""
        actor = acting_for(family_account)
        components = RegistrationsComponents.current()
        reason = body.pop("reason")
        result = FactValidations(components.engine, components.households, components.clock).validate(
            actor, ValidationAsked(fact=fact, **body), reason)
        return next(state for state in result.household.facts
                    if (state.fact, state.child_id) == result.validation.key)
