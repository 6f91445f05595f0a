"""Household API: a parent declares their household and children; managers and services read one.

A parent only ever reaches the household of their token's subject: another family's child id is
answered 404, like an id that does not exist, so ids cannot be probed.

Needs `app.extensions["guichet.runtime"]` (a `shared.runtime.Runtime`) for PostgreSQL and Redis.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from typing import Callable, Iterator
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import PreconditionFailed

from services.registrations.domain.household import (Child, ChildNotFound, DuplicateChild, Household,
                                                     HouseholdInvalid, add_child, change_child, remove_child,
                                                     with_facts)
from services.registrations.household_cache import HouseholdReader
from services.registrations.household_repository import StaleHousehold, load_household, save_household
from services.registrations.household_schemas import (ChildChangesSchema, ChildSchema, HouseholdFactsSchema,
                                                      HouseholdSchema, NewChildSchema)
from shared.auth import current_principal, require_roles
from shared.db import transaction
from shared.errors import PROBLEM_CONTENT_TYPE, Conflict, NotFound, Unprocessable, field_error
from shared.idempotency import HEADER as IDEMPOTENCY_KEY, IdempotencyStore, idempotent
from shared.runtime import Runtime
from shared.web import ProblemSchema

PARIS = ZoneInfo("Europe/Paris")
IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header", "name": IDEMPOTENCY_KEY, "required": True, "schema": {"type": "string", "maxLength": 255},
    "description": "a new random value per child you mean to add; resend the same one when retrying"}

household_blueprint = Blueprint(
    "households", __name__,
    description="A family's household: the facts priority criteria and tariffs use, and the children applications "
                "are made for.")
blp = household_blueprint


def _runtime() -> Runtime:
    return current_app.extensions["guichet.runtime"]


def _reader() -> HouseholdReader:
    runtime = _runtime()
    return HouseholdReader(runtime.engine, runtime.redis)


def _paris_today() -> date:
    # Birth and justification dates are days of the Paris calendar, not of the server's time zone.
    return datetime.now(PARIS).date()


def _etag_data(household: Household | None) -> dict[str, int]:
    return {"version": household.version if household is not None else 0}


def _existing(household: Household | None) -> Household:
    if household is None:
        raise NotFound("You have not declared your household yet: send it with PUT /household (If-Match: *).",
                       code="household-not-found")
    return household


@contextmanager
def _as_problems() -> Iterator[None]:
    """The domain's refusals, as the problems a parent's client can act on."""
    try:
        yield
    except HouseholdInvalid as invalid:
        raise Unprocessable("The household breaks a rule; nothing was changed.", code="household-invalid",
                            errors=[field_error(v.field, v.message, v.code) for v in invalid.violations])
    except ChildNotFound:
        raise NotFound("Your household has no child with this id.", code="child-not-found")
    except DuplicateChild as duplicate:
        raise Conflict("This child (same names and birth date) is already in your household.",
                       code="child-already-declared", child_id=str(duplicate.existing.child_id),
                       child_url=url_for("households.OwnChild", child_id=duplicate.existing.child_id))
    except StaleHousehold:
        raise PreconditionFailed("The household was changed meanwhile: read it again, then resend your change.")


def _commit(family_account: str, change: Callable[[Household | None], Household]) -> Household:
    """Apply `change` to the stored household (locked meanwhile), then write the result through to Redis."""
    with _as_problems(), transaction(_runtime().engine) as connection:
        saved = save_household(connection, change(load_household(connection, family_account, for_update=True)))
    _reader().write_through(saved)
    return saved


@blp.route("/household")
class OwnHousehold(MethodView):
    @require_roles("parent")
    @blp.etag
    @blp.response(200, HouseholdSchema)
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="No household declared yet (code household-not-found)")
    def get(self):
        """My household, with its children"""
        household = _existing(_reader().get(current_principal().subject))
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
        family_account = current_principal().subject

        def replace_facts(current: Household | None) -> Household:
            blp.check_etag(_etag_data(current))
            return with_facts(current or Household(family_account), _paris_today(), **facts)

        saved = _commit(family_account, replace_facts)
        blp.set_etag(_etag_data(saved))
        return saved


@blp.route("/household/children")
class OwnChildren(MethodView):
    @idempotent(lambda: IdempotencyStore(_runtime().redis))
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
        saved = _commit(current_principal().subject,
                        lambda current: add_child(_existing(current), child, _paris_today()))
        return saved.child(child.child_id), {"Location": url_for("households.OwnChild", child_id=child.child_id)}


@blp.route("/household/children/<uuid:child_id>")
class OwnChild(MethodView):
    @require_roles("parent")
    @blp.response(200, ChildSchema)
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="No such child in my household")
    def get(self, child_id: UUID):
        """One child of my household"""
        with _as_problems():
            return _existing(_reader().get(current_principal().subject)).child(child_id)

    @require_roles("parent")
    @blp.arguments(ChildChangesSchema)
    @blp.response(200, ChildSchema)
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="No such child in my household")
    @blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="The change makes it a duplicate of another child")
    def patch(self, changes, child_id: UUID):
        """Correct some fields of a child"""
        saved = _commit(current_principal().subject,
                        lambda current: change_child(_existing(current), child_id, _paris_today(), **changes))
        return saved.child(child_id)

    @require_roles("parent")
    @blp.response(204)
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="No such child in my household")
    def delete(self, child_id: UUID):
        """Remove a child from my household

        The child disappears from the household; its record is kept (marked removed) because
        applications already made for it still name it.
        """
        _commit(current_principal().subject, lambda current: remove_child(_existing(current), child_id))


@blp.route("/households/<family_account>")
class FamilyHousehold(MethodView):
    @require_roles("manager", "service")
    @blp.response(200, HouseholdSchema)
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="This family has not declared a household")
    def get(self, family_account: str):
        """A family's household (city support staff and other Guichet services)"""
        household = _reader().get(family_account)
        if household is None:
            raise NotFound("This family has not declared a household.", code="household-not-found")
        return household
