"""What managers read of registrations: a campaign's intake counters while its window is open."""
from __future__ import annotations

from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint

from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.store.ledger import intake_counters
from services.registrations.web.schemas import IntakeCountersSchema
from shared.auth import require_roles

blp = Blueprint("intake_counters", __name__, url_prefix="/applications",
                description="Applications received for a campaign: the managers' live view of a window.")


@blp.route("/counters/<uuid:campaign_id>")
class IntakeCounters(MethodView):
    @require_roles("manager")
    @blp.response(200, IntakeCountersSchema)
    def get(self, campaign_id: UUID):
        """Applications received for a campaign, per minute and per offer (managers' live view of a window)

        Read from the ledger: an application acknowledged a moment ago appears once the intake consumer
        has written it (usually within a second)."""
        return intake_counters(RegistrationsComponents.current().engine, campaign_id)
