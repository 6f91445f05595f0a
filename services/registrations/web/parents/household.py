"""Household API for parents: declare the household and its children.

A parent only ever reaches the household of their token's subject: another family's child id is
answered 404, like an id that does not exist, so ids cannot be probed. Refusals are the domain's
exceptions, turned into problems by `web.errors`.
"""
from __future__ import annotations

from uuid import UUID, uuid4

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.domain.household import Child, Household, declared
from services.registrations.usecases.erasure import erase_family
from services.registrations.usecases.export import export_family
from services.registrations.web.schemas import (
    ChildChangesSchema,
    ChildSchema,
    HouseholdFactsSchema,
    HouseholdSchema,
    NewChildSchema,
)
from shared.audit_web import request_actor
from shared.auth import current_principal, require_roles
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
