"""Household API for parents: declare the household and its children.

A parent only ever reaches the household of their token's subject: another family's child id is
answered 404, like an id that does not exist, so ids cannot be probed. Refusals are the domain's
exceptions, turned into problems by `web.errors`.
"""
from __future__ import annotations

from uuid import UUID, uuid4

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.domain.household import Child, Household, declared
from services.registrations.usecases.erasure import erase_family
from services.registrations.usecases.export import export_family
from services.registrations.usecases.households import HISTORY_TARGETS, household_history
from services.registrations.web.schemas import (
    ChildChangesSchema,
    ChildSchema,
    HouseholdFactsSchema,
    HouseholdSchema,
    NewChildSchema,
)
from shared.audit_web import request_actor
from shared.auth import current_principal, require_roles
from shared.contracts.fields import described
from shared.errors import PROBLEM_CONTENT_TYPE
from shared.idempotency import HEADER as IDEMPOTENCY_KEY
from shared.idempotency import idempotent
from shared.web import ProblemSchema

IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header", "name": IDEMPOTENCY_KEY, "required": True, "schema": {"type": "string", "maxLength": 255},
    "description": "a new random value per child you mean to add; resend the same one when retrying"}

blp = Blueprint(
    "households", __name__,
    description="A family's household: the facts priority criteria and tariffs use, and the children applications "
                "are made for.")


def _etag_data(household: Household | None) -> dict[str, int]:
    return {"version": household.version if household is not None else 0}


def _own_household() -> Household:
    family_account = current_principal().subject
    return declared(RegistrationsComponents.current().households.get(family_account), family_account)


@blp.route("/household")
class OwnHousehold(MethodView):
    @require_roles("parent")
    @blp.etag
    @blp.response(200, HouseholdSchema)
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="No household declared yet (code household-not-found)")
    def get(self):
        """My household, with its children"""
        household = _own_household()
        blp.set_etag(_etag_data(household))
        return household

    @require_roles("parent")
    @blp.etag
    @blp.arguments(HouseholdFactsSchema)
    @blp.response(200, HouseholdSchema)
    def put(self, facts):
        """Declare my household, or replace its facts (children are kept)

        Send `If-Match` with the ETag you read, or `If-Match: *` to create the household or to overwrite
        it whatever it is now. A stale ETag is answered 412 and changes nothing.
        """
        saved = RegistrationsComponents.current().household_changes.declare(
            current_principal().subject, facts, check=lambda current: blp.check_etag(_etag_data(current)),
            actor=request_actor("parent"))
        blp.set_etag(_etag_data(saved))
        return saved


@blp.route("/household/children")
class OwnChildren(MethodView):
    @idempotent(lambda: RegistrationsComponents.current().idempotency)
    @require_roles("parent")
    @blp.arguments(NewChildSchema)
    @blp.response(201, ChildSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="No household declared yet")
    @blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="The child is already declared (its `child_id` is "
                                                             "given), or the same Idempotency-Key is in flight")
    def post(self, new_child):
        """Add a child to my household"""
        child = Child(child_id=uuid4(), **new_child)
        saved = RegistrationsComponents.current().household_changes.add_child(current_principal().subject, child,
                                                                        actor=request_actor("parent"))
        return saved.child(child.child_id), {"Location": url_for("households.OwnChild", child_id=child.child_id)}


@blp.route("/household/children/<uuid:child_id>")
class OwnChild(MethodView):
    @require_roles("parent")
    @blp.response(200, ChildSchema)
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="No such child in my household")
    def get(self, child_id: UUID):
        """One child of my household"""
        return _own_household().child(child_id)

    @require_roles("parent")
    @blp.arguments(ChildChangesSchema)
    @blp.response(200, ChildSchema)
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="No such child in my household")
    @blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="The change makes it a duplicate of another child")
    def patch(self, changes, child_id: UUID):
        """Correct some fields of a child"""
        saved = RegistrationsComponents.current().household_changes.change_child(
            current_principal().subject, child_id, actor=request_actor("parent"), **changes)
        return saved.child(child_id)

    @require_roles("parent")
    @blp.response(204)
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="No such child in my household")
    def delete(self, child_id: UUID):
        """Remove a child from my household

        The child disappears from the household; its record is kept (marked removed) because
        applications already made for it still name it.
        """
        RegistrationsComponents.current().household_changes.remove_child(current_principal().subject, child_id,
                                                                         actor=request_actor("parent"))


HISTORY_PAGE_MAX = 100
POSITION_MAX = 2**63 - 1  # a chain position is a PostgreSQL bigint


class HistoryQuerySchema(ma.Schema):
    before = described(ma.fields.Integer, "the `next_before` of the page read: the changes older than it",
                       validate=ma.validate.Range(min=1, max=POSITION_MAX))
    limit = described(ma.fields.Integer, f"at most this many changes (1–{HISTORY_PAGE_MAX})", load_default=20,
                      validate=ma.validate.Range(min=1, max=HISTORY_PAGE_MAX))


class HistoryItemSchema(ma.Schema):
    seq = described(ma.fields.Integer, "the change's position in the family's history (older ones are lower)",
                    required=True)
    at = described(ma.fields.AwareDateTime, "when it was made (UTC)", required=True)
    action = described(ma.fields.String, "what was done: household.declare, household.correct, "
                       "household.fact_validate, child.add, child.change, child.remove, document.upload, "
                       "document.delete", required=True)
    target_type = described(ma.fields.String, "what was changed: " + ", ".join(HISTORY_TARGETS), required=True)
    target_id = described(ma.fields.String, "its id: the family account for the household, the child's or the "
                          "document's id", required=True)
    by = described(ma.fields.String, "`family` (you) or `agent` (a city agent for you: show « fait par un agent, "
                   "le …, motif : … » with `at` and `reason`)", required=True,
                   validate=ma.validate.OneOf(["family", "agent"]))
    reason = described(ma.fields.String, "the agent's motif; null for your own changes", required=True,
                       allow_none=True)
    fields = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "the names of the fields changed (`quotient_tranche`, `postal_address.city`, "
                       "`first_name`…); their values are in your household"})
    child_name = described(ma.fields.String, "for a child added, removed or renamed: its name as the change recorded "
                           "it (first and last name for an addition or a removal, the new one for a renaming; a "
                           "child removed since is still named); otherwise null", required=True, allow_none=True)


class HistoryPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(HistoryItemSchema), required=True,
                           metadata={"description": "the changes, newest first"})
    next_before = described(ma.fields.Integer, "send it as `before` for the older changes; null on the last page",
                            required=True, allow_none=True)


@blp.route("/household/history")
class OwnHistory(MethodView):
    @require_roles("parent")
    @blp.arguments(HistoryQuerySchema, location="query")
    @blp.response(200, HistoryPageSchema)
    def get(self, query):
        """What was changed in my household, my children and my documents, and by whom, newest first

        Each change is yours or a city agent's for you, with the agent's motif (the agent is not named). Read
        page by page: `limit` changes, then `before=next_before` for the older ones."""
        return household_history(RegistrationsComponents.current().engine, current_principal().subject,
                                 before=query.get("before"), limit=query["limit"])


@blp.route("/household/export")
class OwnExport(MethodView):
    @require_roles("parent")
    @blp.doc(responses={200: {"description": "every record this service holds about the family, by table (docs/privacy.md)",
                            "content": {"application/json": {"schema": {"type": "object"}}}}})
    def get(self):
        """Everything registrations holds about your family, as JSON (your right of access and portability)"""
        return export_family(RegistrationsComponents.current().engine, current_principal().subject)


@blp.route("/household/erasure")
class OwnErasure(MethodView):
    @require_roles("parent")
    @blp.doc(responses={200: {"description": "erased: the household and children are gone, the applications kept under a pseudonym",
                            "content": {"application/json": {"schema": {"type": "object"}}}}})
    @blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                      description="refused while an application of the family is open (code open-application)")
    def post(self):
        """Erase your family's data (your right to erasure): refused while an application is still open"""
        components = RegistrationsComponents.current()
        pseudonym = erase_family(components.engine, components.redis, current_principal().subject, "family",
                                 components.clock(), request_actor("parent"))
        return {"erased": True, "pseudonym": pseudonym}
