"""The in-app inbox: a parent reads their family's messages and marks them read.

A parent only reaches the messages of their token's subject: another family's message id is
answered 404, like an id that does not exist, so ids cannot be probed.
"""
from __future__ import annotations

from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint

from services.notifications.api_context import context
from services.notifications.mailbox import inbox_messages, mark_read
from services.notifications.schemas import InboxMessageSchema, InboxQuerySchema
from shared.auth import current_principal, require_roles
from shared.errors import NotFound
from shared.web import ProblemSchema

blp = Blueprint("inbox", __name__, url_prefix="/notifications/inbox",
                description="A family's messages in the portal, in the family's language (role parent).")


@blp.route("")
class Inbox(MethodView):
    @require_roles("parent")
    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, InboxMessageSchema(many=True))
    def get(self, query):
        """My family's messages, newest first"""
        with context().engine.connect() as connection:
            return inbox_messages(connection, current_principal().subject, unread_only=query["unread"])


@blp.route("/<uuid:message_id>/read")
class Reading(MethodView):
    @require_roles("parent")
    @blp.response(200, InboxMessageSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No message of yours has this id")
    def post(self, message_id: UUID):
        """Mark one of my messages read (again: no change)"""
        with context().engine.begin() as connection:
            message = mark_read(connection, current_principal().subject, message_id, context().clock())
        if message is None:
            raise NotFound("No message of yours has this id.", code="message-not-found")
        return message
