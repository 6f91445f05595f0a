"""Parents change an application's ranked choices before the close: `PUT /applications/{id}/choices`
(docs/registrations.md#changing-choices). The other refusals are mapped by `web.errors`; `ChoicesFixed`, this
route's own, here."""
from __future__ import annotations

from uuid import UUID

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.domain.choices import ChoicesFixed
from services.registrations.usecases.choices import ChoiceChanges, NewChoices
from services.registrations.web.schemas import MAX_CHOICES, MAX_SIBLINGS, ApplicationSchema
from shared.audit_web import request_actor
from shared.auth import current_principal, require_roles
from shared.errors import PROBLEM_CONTENT_TYPE, Conflict, handle_problem
from shared.idempotency import idempotent
from shared.schema_fields import bounded_list
from shared.web import ProblemSchema

blp = Blueprint("application_choices", __name__, url_prefix="/applications",
                description="Change an application's ranked choices before the close.")


class ChoicesSchema(ma.Schema):
    choices = bounded_list(ma.fields.UUID(), MAX_CHOICES, min_items=1, required=True,
                           metadata={"description": "the new offer ids, your first choice first"})
    keep_with_applications = bounded_list(ma.fields.UUID(), MAX_SIBLINGS, load_default=None, metadata={
        "description": "the applications of this child's siblings in the same campaign to be placed with; "
                       "absent: unchanged, []: none"})


@blp.errorhandler(ChoicesFixed)
def choices_fixed(refused: ChoicesFixed):
    return handle_problem(Conflict(str(refused), code=refused.code, status_now=refused.status))


@blp.route("/<uuid:application_id>/choices")
class ApplicationChoices(MethodView):
    @idempotent(lambda: RegistrationsComponents.current().idempotency)
    @require_roles("parent")
    @blp.arguments(ChoicesSchema())
    @blp.response(200, ApplicationSchema)
    @blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                      description="window-closed; choices-fixed-first-come (a first-come campaign: the place held "
                                  "was decided by the choices at arrival); choices-fixed-decided")
    def put(self, body, application_id: UUID):
        """Change my application's ranked choices before the close (lottery campaigns; same id, same draw line)"""
        components = RegistrationsComponents.current()
        changes = ChoiceChanges(components.engine, components.campaigns, components.clock)
        return changes.change(current_principal().subject, application_id,
                              NewChoices(body["choices"], body["keep_with_applications"]),
                              actor=request_actor("parent"))
