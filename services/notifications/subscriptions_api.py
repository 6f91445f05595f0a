"""A parent asks to be told when a campaign opens (one message, by every channel the family uses)."""
from __future__ import annotations

from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint

from services.notifications.api_context import context
from services.notifications.read_model import campaign
from services.notifications.schemas import SubscriptionSchema
from services.notifications.subscriptions import family_subscriptions, subscribe, unsubscribe
from shared.auth import current_principal, require_roles
from shared.errors import Conflict, NotFound
from shared.web import ProblemSchema

blp = Blueprint("subscriptions", __name__, url_prefix="/notifications/subscriptions",
                description="Be told when a published campaign opens for applications (role parent).")


@blp.route("")
class Subscriptions(MethodView):
    @require_roles("parent")
    @blp.response(200, SubscriptionSchema(many=True))
    def get(self):
        """The campaigns whose opening I will be told of"""
        with context().engine.connect() as connection:
            return family_subscriptions(connection, current_principal().subject)


@blp.route("/<uuid:campaign_id>")
class Subscription(MethodView):
    @require_roles("parent")
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No published campaign has this id")
    @blp.alt_response(409, schema=ProblemSchema, description="The campaign is already open")
    def put(self, campaign_id: UUID):
        """Tell me when this campaign opens (subscribing twice is one subscription)"""
        with context().engine.begin() as connection:
            known = campaign(connection, campaign_id)
            if known is None:
                raise NotFound("No published campaign has this id.", code="campaign-not-found")
            if known["opened_at"] is not None:
                raise Conflict("This campaign is already open: apply now.", code="campaign-already-open")
            return subscribe(connection, current_principal().subject, campaign_id, context().clock())

    @require_roles("parent")
    @blp.response(204)
    @blp.alt_response(404, schema=ProblemSchema, description="You are not subscribed to this campaign")
    def delete(self, campaign_id: UUID):
        """Stop telling me when this campaign opens"""
        with context().engine.begin() as connection:
            if not unsubscribe(connection, current_principal().subject, campaign_id):
                raise NotFound("You are not subscribed to this campaign.", code="subscription-not-found")
