"""What city staff (role manager) reach: notifications that could not be delivered, and the letters the
mail room prints and posts. The mail room is staff signed in with the manager role, the same audience
as the failures view, so both are one blueprint. Each change leaves one entry on the family's audit chain, which
managers read here too (docs/audit.md).

A manager sees and acts on the notifications and letters of the campaigns its scope covers (GUICHET_MANAGER_SCOPES,
shared.auth): the others are left out of the lists and answered 403 `out-of-scope`; those about no campaign known
here, and a family's whole record (its export, its audit trail), need city-wide rights."""
from __future__ import annotations

from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint

from services.notifications import usecases
from services.notifications.bootstrap import NotificationsComponents
from services.notifications.store.mailbox import letters
from services.notifications.store.queue import failures
from services.notifications.store.scopes import CampaignOf, letter_campaigns, notification_campaigns
from services.notifications.web.schemas import FailureSchema, LetterQuerySchema, LetterSchema, RetrySchema
from shared.audit_web import AuditEntrySchema, AuditQuerySchema, audit_answer, audit_read_doc, request_actor
from shared.auth import current_principal, require_city_wide_manager, require_roles
from shared.errors import Forbidden
from shared.web import ProblemSchema

blp = Blueprint("managers", __name__, url_prefix="/notifications",
                description="Notifications given up on after their last delivery attempt, and retrying them; letters "
                            "for families who chose paper, to print and post; who did either, per family "
                            "(role manager).")


def covers(about: CampaignOf | None) -> bool:
    """The manager's scope covers the campaign a notification is about (city-wide rights cover every one)."""
    scope = current_principal().scope
    return scope.city_wide or (about is not None and about.campaign_id is not None
                               and scope.allows(about.kind or "", about.campaign_id))


def require_covered(about: CampaignOf | None) -> None:
    """403 for a notification or letter outside the manager's scope; an unknown one (None) goes on to its 404."""
    if about is not None and not covers(about):
        raise Forbidden("Your manager rights do not cover the campaign this is about.", code="out-of-scope")


@blp.route("/failures")
class Failures(MethodView):
    @require_roles("manager")
    @blp.response(200, FailureSchema(many=True))
    def get(self):
        """Notifications not delivered after every attempt, most recent first"""
        with NotificationsComponents.current().engine.connect() as connection:
            rows = failures(connection)
            about = notification_campaigns(connection, [row["notification_id"] for row in rows])
        return [{**row, "delivered_channels": row["delivered_channels"] or []} for row in rows
                if covers(about.get(row["notification_id"]))]


@blp.route("/failures/<uuid:notification_id>/retry")
class Retry(MethodView):
    @require_roles("manager")
    @blp.response(200, RetrySchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No failed notification has this id")
    @blp.alt_response(403, schema=ProblemSchema, description="its campaign is outside your manager scope (out-of-scope)")
    def post(self, notification_id: UUID):
        """Try a failed notification again now (e.g. after the family corrected its address)

        Channels that already got through are not repeated: only what failed is tried again.
        """
        parts = NotificationsComponents.current()
        with parts.engine.connect() as connection:
            require_covered(notification_campaigns(connection, [notification_id]).get(notification_id))
        usecases.retry_failure(parts.engine, parts.clock, notification_id, request_actor("manager"))
        return {"notification_id": notification_id, "status": "pending"}


@blp.route("/letters")
class Letters(MethodView):
    @require_roles("manager")
    @blp.arguments(LetterQuerySchema, location="query")
    @blp.response(200, LetterSchema(many=True))
    def get(self, query):
        """Letters still to print, oldest first (or the printed ones)"""
        with NotificationsComponents.current().engine.connect() as connection:
            rows = letters(connection, printed=query["printed"])
            about = letter_campaigns(connection, [row["letter_id"] for row in rows])
        return [row for row in rows if covers(about.get(row["letter_id"]))]


@blp.route("/letters/<uuid:letter_id>/printed")
class Printing(MethodView):
    @require_roles("manager")
    @blp.response(200, LetterSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No letter has this id")
    @blp.alt_response(403, schema=ProblemSchema, description="its campaign is outside your manager scope (out-of-scope)")
    def post(self, letter_id: UUID):
        """Record that a letter was printed (again: no change)"""
        parts = NotificationsComponents.current()
        with parts.engine.connect() as connection:
            require_covered(letter_campaigns(connection, [letter_id]).get(letter_id))
        return usecases.mark_printed(parts.engine, parts.clock, letter_id, request_actor("manager"))


@blp.route("/families/<family_account>/export")
class FamilyExport(MethodView):
    @require_roles("manager")
    @blp.doc(responses={200: {"description": "every record this service holds about the family, by table (docs/privacy.md)",
                            "content": {"application/json": {"schema": {"type": "object"}}}}})
    def get(self, family_account: str):
        """Everything notifications holds about a family, as JSON: for an agent answering an access request"""
        require_city_wide_manager()
        return usecases.export_family(NotificationsComponents.current().engine, family_account)


@blp.route("/families/<string(maxlength=255):family_account>/audit")
class FamilyAudit(MethodView):
    @require_roles("manager")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    @blp.doc(responses=audit_read_doc())
    def get(self, query, family_account: str):
        """Who retried the family's notifications or printed its letters, and when: its audit trail (docs/audit.md)

        In chain order, filtered by time (`since` inclusive, `until` exclusive) and by actor; `Accept: text/csv`
        or `?format=csv` gives a CSV export. A family no manager acted for has an empty trail.
        """
        require_city_wide_manager()
        entries = usecases.family_audit(NotificationsComponents.current().engine, family_account,
                                        since=query.get("since"), until=query.get("until"), actor=query.get("actor"))
        return audit_answer(entries, query.get("format"), "audit-notifications-family.csv")
