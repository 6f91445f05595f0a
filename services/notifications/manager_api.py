"""City staff (role manager): notifications that could not be delivered, and the letters to print."""
from __future__ import annotations

from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint

from services.notifications.api_context import context
from services.notifications.mailbox import letters, mark_printed
from services.notifications.schemas import FailureSchema, LetterQuerySchema, LetterSchema, RetrySchema
from services.notifications.store import failures, retry_failed
from shared.auth import require_roles
from shared.errors import NotFound
from shared.web import ProblemSchema

failures_blueprint = Blueprint(
    "failures", __name__, url_prefix="/notifications/failures",
    description="Notifications given up on after their last delivery attempt, and retrying them (role manager).")
letters_blueprint = Blueprint(
    "letters", __name__, url_prefix="/notifications/letters",
    description="Letters for families who chose paper, to print and post (role manager).")


@failures_blueprint.route("")
class Failures(MethodView):
    @require_roles("manager")
    @failures_blueprint.response(200, FailureSchema(many=True))
    def get(self):
        """Notifications not delivered after every attempt, most recent first"""
        with context().engine.connect() as connection:
            return [{**row, "delivered_channels": row["delivered_channels"] or []} for row in failures(connection)]


@failures_blueprint.route("/<uuid:notification_id>/retry")
class Retry(MethodView):
    @require_roles("manager")
    @failures_blueprint.response(200, RetrySchema)
    @failures_blueprint.alt_response(404, schema=ProblemSchema, description="No failed notification has this id")
    def post(self, notification_id: UUID):
        """Try a failed notification again now (e.g. after the family corrected its address)

        Channels that already got through are not repeated: only what failed is tried again.
        """
        with context().engine.begin() as connection:
            if not retry_failed(connection, notification_id, context().clock()):
                raise NotFound("No failed notification has this id.", code="failure-not-found")
        return {"notification_id": notification_id, "status": "pending"}


@letters_blueprint.route("")
class Letters(MethodView):
    @require_roles("manager")
    @letters_blueprint.arguments(LetterQuerySchema, location="query")
    @letters_blueprint.response(200, LetterSchema(many=True))
    def get(self, query):
        """Letters still to print, oldest first (or the printed ones)"""
        with context().engine.connect() as connection:
            return letters(connection, printed=query["printed"])


@letters_blueprint.route("/<uuid:letter_id>/printed")
class Printing(MethodView):
    @require_roles("manager")
    @letters_blueprint.response(200, LetterSchema)
    @letters_blueprint.alt_response(404, schema=ProblemSchema, description="No letter has this id")
    def post(self, letter_id: UUID):
        """Record that a letter was printed (again: no change)"""
        with context().engine.begin() as connection:
            letter = mark_printed(connection, letter_id, context().clock())
        if letter is None:
            raise NotFound("No letter has this id.", code="letter-not-found")
        return letter
