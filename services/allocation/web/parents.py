"""Parent API (role `parent`): why my application got what it got."""
from __future__ import annotations

from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint

from services.allocation.bootstrap import AllocationComponents
from services.allocation.store.places import latest_place
from services.allocation.store.repository import explanation, family_decision
from services.allocation.usecases.draw_lines import family_line
from services.allocation.web.schemas import DrawLineSchema, ExplanationSchema
from services.allocation.web.views import explanation_view
from shared.auth import current_principal, require_roles
from shared.errors import Conflict, NotFound
from shared.web import ProblemSchema

blp = Blueprint("explanations", __name__, url_prefix="/explanations",
                description="Parents read why their application was placed, waitlisted or rejected (role parent).")


@blp.route("/<uuid:application_id>",
           parameters=[{"in": "path", "name": "application_id", "description": "your application's id (UUID)"}])
class Explanation(MethodView):
    @require_roles("parent")
    @blp.response(200, ExplanationSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="no application of yours has this id")
    @blp.alt_response(409, schema=ProblemSchema, description="not decided yet")
    def get(self, application_id: UUID):
        """Why this decision: your tier, lottery number or arrival rank, and at each choice whom you had to beat"""
        with AllocationComponents.current().engine.connect() as connection:
            decision = family_decision(connection, application_id, current_principal().subject)
            # Another family's application answers exactly like one that does not exist.
            if decision is None:
                raise NotFound("No application of yours has this id.", code="application-not-found")
            if decision.outcome is None:
                raise Conflict("This application has not been decided yet.", code="not-decided-yet")
            return explanation_view(decision, explanation(connection, decision.run_id, decision.explanation),
                                    latest_place(connection, application_id))


@blp.route("/<uuid:application_id>/draw-line",
           parameters=[{"in": "path", "name": "application_id", "description": "your application's id (UUID)"}])
class DrawLine(MethodView):
    @require_roles("parent")
    @blp.response(200, DrawLineSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="no application of yours has this id, or it has no line")
    def get(self, application_id: UUID):
        """Your line in the public draw: its salt and facts, to check it with guichet-verify"""
        with AllocationComponents.current().engine.connect() as connection:
            decision = family_decision(connection, application_id, current_principal().subject)
            if decision is None:
                raise NotFound("No application of yours has this id.", code="application-not-found")
            line = family_line(connection, decision.campaign_id, application_id)
        return {**line, "how_to_check": f"guichet-verify bundle.json --commitment <the opening's commitment> "
                                        f"--line {line['line']} --salt {line['salt']} --facts facts.json"}
