"""Manager API (role `manager`): campaigns, their offers, and the actions on them.

Every write on an existing campaign names the version it was made on in If-Match (428 without
it, 412 when another write came first) and answers the campaign with its new ETag. Creating and
cloning take an Idempotency-Key, so a double-submitted form makes one campaign.

A manager acts only on the campaigns its scope covers (GUICHET_MANAGER_SCOPES, shared.auth): 403 on any
other, before anything is read from the body or changed; the list shows only those.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from services.campaigns.bootstrap import CampaignsComponents
from services.campaigns.store.repository import StoredCampaign
from services.campaigns.usecases.audit import campaign_audit
from services.campaigns.usecases.clone import clone_campaign
from services.campaigns.usecases.create import create_campaign
from services.campaigns.usecases.edit import update_campaign
from services.campaigns.usecases.lifecycle import archive_campaign
from services.campaigns.usecases.offers import add_offer, remove_offer, update_offer
from services.campaigns.usecases.publish import publish_campaign
from services.campaigns.usecases.window import close_early, extend_close
from services.campaigns.web.etags import etag_for, expected_version
from services.campaigns.web.schemas import (
    CampaignCreateSchema,
    CampaignListQuerySchema,
    CampaignPatchSchema,
    CampaignSchema,
    CloneSchema,
    ExtendCloseSchema,
    OfferFieldsSchema,
    OfferPatchSchema,
    campaign_view,
)
from shared.audit import Actor
from shared.audit_web import AuditEntrySchema, AuditQuerySchema, audit_answer, audit_read_doc, request_actor
from shared.auth import current_principal, require_manager_scope, require_roles
from shared.idempotency import idempotent
from shared.web import ProblemSchema

blp = Blueprint("campaigns", __name__, url_prefix="/campaigns",
                description="Campaign managers configure campaigns and their offers (role manager).")

ETAG_HEADER = {"ETag": {"description": "the campaign's version; send it back in If-Match to change the campaign",
                        "schema": {"type": "string"}}}
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
            "description": "the ETag of the campaign as you last read it, e.g. \"3\""}
CAMPAIGN_ID = {"in": "path", "name": "campaign_id", "description": "the campaign's id (UUID)"}
OFFER_ID = {"in": "path", "name": "offer_id", "description": "the offer's id (UUID)"}
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "required": True, "schema": {"type": "string"},
                   "description": "a new random value per intended creation; a retry with the same key and body "
                                  "gets the first answer again"}


def if_match_required(view: Callable) -> Callable:
    """Reads If-Match before anything else and hands the view the version it names."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, expected=expected_version(request.headers.get("If-Match")), **kwargs)

    wrapper = blp.doc(parameters=[IF_MATCH])(wrapper)
    wrapper = blp.alt_response(412, schema=ProblemSchema, description="the campaign changed since that ETag")(wrapper)
    return blp.alt_response(428, schema=ProblemSchema, description="If-Match is missing")(wrapper)


def in_scope(view: Callable) -> Callable:
    """403 unless the manager's scope covers the campaign the path names (404 for an unknown one)."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        campaign_id = str(kwargs["campaign_id"])
        require_manager_scope(CampaignsComponents.current().writer.get(campaign_id).campaign.kind, campaign_id)
        return view(*args, **kwargs)

    return blp.alt_response(403, schema=ProblemSchema, description="the campaign is outside your manager scope, "
                                                                   "or you are not a manager")(wrapper)


def manager() -> Actor:
    """Who makes this write, for the audit trail (docs/audit.md)."""
    return request_actor("manager")


def answer(stored: StoredCampaign, status: int = 200, *, located: bool = False
           ) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The campaign, its ETag, and for a new campaign where it lives."""
    headers = {"ETag": etag_for(stored.version)}
    if located:
        headers["Location"] = url_for("campaigns.CampaignItem", campaign_id=stored.campaign.id)
    return campaign_view(stored, CampaignsComponents.current().clock()), status, headers


@blp.route("")
class CampaignCollection(MethodView):
    @require_roles("manager")
    @blp.arguments(CampaignListQuerySchema, location="query")
    @blp.response(200, CampaignSchema(many=True))
    def get(self, query):
        """List campaigns, latest opening first"""
        now = CampaignsComponents.current().clock()
        scope = current_principal().scope
        return [campaign_view(stored, now) for stored in CampaignsComponents.current().writer.find(now, **query)
                if scope.allows(stored.campaign.kind, stored.campaign.id)]

    @require_roles("manager")
    @idempotent(lambda: CampaignsComponents.current().idempotency)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    @blp.arguments(CampaignCreateSchema)
    @blp.response(201, CampaignSchema, headers=ETAG_HEADER)
    def post(self, fields):
        """Create a draft campaign, with offers or without"""
        require_manager_scope(fields["kind"])
        offers = fields.pop("offers")
        return answer(create_campaign(CampaignsComponents.current().writer, fields, offers, actor=manager()), 201, located=True)


@blp.route("/<uuid:campaign_id>", parameters=[CAMPAIGN_ID])
class CampaignItem(MethodView):
    @require_roles("manager")
    @in_scope
    @blp.response(200, CampaignSchema, headers=ETAG_HEADER)
    def get(self, campaign_id):
        """Read a campaign and its ETag"""
        return answer(CampaignsComponents.current().writer.get(str(campaign_id)))

    @require_roles("manager")
    @in_scope
    @if_match_required
    @blp.arguments(CampaignPatchSchema)
    @blp.response(200, CampaignSchema, headers=ETAG_HEADER)
    def patch(self, changes, campaign_id, expected):
        """Change fields of a campaign (the window's opening is fixed once it has opened)"""
        if "kind" in changes:
            require_manager_scope(changes["kind"])
        return answer(update_campaign(CampaignsComponents.current().writer, str(campaign_id), expected, changes,
                                      actor=manager()))


@blp.route("/<uuid:campaign_id>/offers", parameters=[CAMPAIGN_ID])
class CampaignOffers(MethodView):
    @require_roles("manager")
    @in_scope
    @if_match_required
    @blp.arguments(OfferFieldsSchema)
    @blp.response(201, CampaignSchema, headers=ETAG_HEADER)
    def post(self, fields, campaign_id, expected):
        """Add an offer (until the window closes); the answer is the campaign, the new offer last"""
        return answer(add_offer(CampaignsComponents.current().writer, str(campaign_id), expected, fields,
                                actor=manager()), 201)


@blp.route("/<uuid:campaign_id>/offers/<uuid:offer_id>", parameters=[CAMPAIGN_ID, OFFER_ID])
class CampaignOffer(MethodView):
    @require_roles("manager")
    @in_scope
    @if_match_required
    @blp.arguments(OfferPatchSchema)
    @blp.response(200, CampaignSchema, headers=ETAG_HEADER)
    def patch(self, changes, campaign_id, offer_id, expected):
        """Change an offer (capacity never below the places given; ages, tariffs and place fixed once open)"""
        return answer(update_offer(CampaignsComponents.current().writer, str(campaign_id), str(offer_id), expected,
                                   changes, actor=manager()))

    @require_roles("manager")
    @in_scope
    @if_match_required
    @blp.response(200, CampaignSchema, headers=ETAG_HEADER)
    def delete(self, campaign_id, offer_id, expected):
        """Remove an offer (only before the window opens)"""
        return answer(remove_offer(CampaignsComponents.current().writer, str(campaign_id), str(offer_id), expected,
                                   actor=manager()))


@blp.route("/<uuid:campaign_id>/publish", parameters=[CAMPAIGN_ID])
class PublishCampaign(MethodView):
    @require_roles("manager")
    @in_scope
    @if_match_required
    @blp.response(200, CampaignSchema, headers=ETAG_HEADER)
    def post(self, campaign_id, expected):
        """Publish a draft: visible to families, it opens at opens_at"""
        return answer(publish_campaign(CampaignsComponents.current().writer, str(campaign_id), expected, actor=manager()))


@blp.route("/<uuid:campaign_id>/close-early", parameters=[CAMPAIGN_ID])
class CloseCampaignEarly(MethodView):
    @require_roles("manager")
    @in_scope
    @if_match_required
    @blp.response(200, CampaignSchema, headers=ETAG_HEADER)
    def post(self, campaign_id, expected):
        """Close an open window now"""
        return answer(close_early(CampaignsComponents.current().writer, str(campaign_id), expected, actor=manager()))


@blp.route("/<uuid:campaign_id>/extend-close", parameters=[CAMPAIGN_ID])
class ExtendCampaignClose(MethodView):
    @require_roles("manager")
    @in_scope
    @if_match_required
    @blp.arguments(ExtendCloseSchema)
    @blp.response(200, CampaignSchema, headers=ETAG_HEADER)
    def post(self, body, campaign_id, expected):
        """Move the close later, before the window has closed"""
        return answer(extend_close(CampaignsComponents.current().writer, str(campaign_id), expected, body["closes_at"],
                                   actor=manager()))


@blp.route("/<uuid:campaign_id>/archive", parameters=[CAMPAIGN_ID])
class ArchiveCampaign(MethodView):
    @require_roles("manager")
    @in_scope
    @blp.response(200, CampaignSchema, headers=ETAG_HEADER)
    @blp.alt_response(422, schema=ProblemSchema, description="the campaign is scheduled or open: it cannot be archived")
    def post(self, campaign_id):
        """Archive a draft or a closed campaign; archiving an archived campaign changes nothing (no If-Match:
        the action does not depend on what you read)"""
        return answer(archive_campaign(CampaignsComponents.current().writer, str(campaign_id), actor=manager()))


@blp.route("/<uuid:campaign_id>/clone", parameters=[CAMPAIGN_ID])
class CloneCampaign(MethodView):
    @require_roles("manager")
    @in_scope
    @idempotent(lambda: CampaignsComponents.current().idempotency)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    @blp.arguments(CloneSchema)
    @blp.response(201, CampaignSchema, headers=ETAG_HEADER)
    def post(self, options, campaign_id):
        """Copy a campaign into a new draft, moved in time (last winter's into this winter's)"""
        return answer(clone_campaign(CampaignsComponents.current().writer, str(campaign_id), **options,
                                     actor=manager()), 201, located=True)


@blp.route("/<uuid:campaign_id>/audit", parameters=[CAMPAIGN_ID])
class CampaignAudit(MethodView):
    @require_roles("manager")
    @in_scope
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    @blp.doc(responses=audit_read_doc())
    @blp.alt_response(404, schema=ProblemSchema, description="no such campaign")
    def get(self, query, campaign_id):
        """Who changed the campaign, what and when: its audit trail in chain order (docs/audit.md)

        Filtered by time (`since` inclusive, `until` exclusive) and by actor; `Accept: text/csv` or
        `?format=csv` gives a CSV export, the changes as JSON in one column.
        """
        entries = campaign_audit(CampaignsComponents.current().engine, str(campaign_id), since=query.get("since"),
                                 until=query.get("until"), actor=query.get("actor"))
        return audit_answer(entries, query.get("format"), f"audit-campaign-{campaign_id}.csv")
