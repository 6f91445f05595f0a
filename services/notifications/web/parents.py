"""What parents (role parent) reach: their family's in-app inbox, and the campaigns whose opening they
asked to be told of, and those it asked to be reminded of 24 h before they close (one message each, by
every channel the family uses).

A parent only reaches the messages of their token's subject: another family's message id is
answered 404, like an id that does not exist, so ids cannot be probed.
"""
from __future__ import annotations

from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint

from services.notifications import usecases
from services.notifications.bootstrap import NotificationsComponents
from services.notifications.store.mailbox import inbox_messages
from services.notifications.store.subscriptions import family_closing_reminders, family_subscriptions
from services.notifications.web.schemas import (
    ClosingReminderSchema,
    InboxMessageSchema,
    InboxQuerySchema,
    SubscriptionSchema,
)
from shared.auth import current_principal, require_roles
from shared.web import ProblemSchema

blp = Blueprint("parents", __name__, url_prefix="/notifications",
                description="A family's messages in the portal, in the family's language, the published campaigns "
                            "whose opening it will be told of and those it will be reminded of before they close "
                            "(role parent).")


@blp.route("/inbox")
class Inbox(MethodView):
    @require_roles("parent")
    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, InboxMessageSchema(many=True))
    def get(self, query):
        """My family's messages, newest first"""
        with NotificationsComponents.current().engine.connect() as connection:
            return inbox_messages(connection, current_principal().subject, unread_only=query["unread"])


@blp.route("/inbox/<uuid:message_id>/read")
class Reading(MethodView):
    @require_roles("parent")
    @blp.response(200, InboxMessageSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No message of yours has this id")
    def post(self, message_id: UUID):
        """Mark one of my messages read (again: no change)"""
        parts = NotificationsComponents.current()
        return usecases.mark_read(parts.engine, parts.clock, current_principal().subject, message_id)


@blp.route("/subscriptions")
class Subscriptions(MethodView):
    @require_roles("parent")
    @blp.response(200, SubscriptionSchema(many=True))
    def get(self):
        """The campaigns whose opening I will be told of"""
        with NotificationsComponents.current().engine.connect() as connection:
            return family_subscriptions(connection, current_principal().subject)


@blp.route("/subscriptions/<uuid:campaign_id>")
class Subscription(MethodView):
    @require_roles("parent")
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No published campaign has this id")
    @blp.alt_response(409, schema=ProblemSchema, description="The campaign is already open")
    def put(self, campaign_id: UUID):
        """Tell me when this campaign opens (subscribing twice is one subscription)"""
        parts = NotificationsComponents.current()
        return usecases.subscribe(parts.engine, parts.clock, current_principal().subject, campaign_id)

    @require_roles("parent")
    @blp.response(204)
    @blp.alt_response(404, schema=ProblemSchema, description="You are not subscribed to this campaign")
    def delete(self, campaign_id: UUID):
        """Stop telling me when this campaign opens"""
        usecases.unsubscribe(NotificationsComponents.current().engine, current_principal().subject, campaign_id)


@blp.route("/closing-reminders")
class ClosingReminders(MethodView):
    @require_roles("parent")
    @blp.response(200, ClosingReminderSchema(many=True))
    def get(self):
        """The campaigns I will be reminded of 24 h before they close"""
        with NotificationsComponents.current().engine.connect() as connection:
            return family_closing_reminders(connection, current_principal().subject)


@blp.route("/closing-reminders/<uuid:campaign_id>")
class ClosingReminder(MethodView):
    @require_roles("parent")
    @blp.response(200, ClosingReminderSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No published campaign has this id")
    @blp.alt_response(409, schema=ProblemSchema, description="The campaign's applications are closed")
    def put(self, campaign_id: UUID):
        """Remind me 24 h before this campaign closes (asking twice is one request)"""
        parts = NotificationsComponents.current()
        return usecases.ask_closing_reminder(parts.engine, parts.clock, current_principal().subject, campaign_id)

    @require_roles("parent")
    @blp.response(204)
    @blp.alt_response(404, schema=ProblemSchema, description="You asked for no reminder before this campaign closes")
    def delete(self, campaign_id: UUID):
        """Do not remind me before this campaign closes"""
        usecases.cancel_closing_reminder(NotificationsComponents.current().engine, current_principal().subject,
                                         campaign_id)


@blp.route("/export")
class OwnExport(MethodView):
    @require_roles("parent")
    @blp.doc(responses={200: {"description": "every record this service holds about the family, by table (docs/privacy.md)",
                            "content": {"application/json": {"schema": {"type": "object"}}}}})
    def get(self):
        """Everything notifications holds about your family, as JSON (your right of access and portability)"""
        return usecases.export_family(NotificationsComponents.current().engine, current_principal().subject)
