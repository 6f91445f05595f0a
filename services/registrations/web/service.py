"""What other Guichet services (and city support staff) read of registrations: a family's household.

Notifications reads it for a family's contact details when it delivers (role `service`); managers
read it when they help a family (role `manager`).
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.usecases.erasure import erase_family
from services.registrations.usecases.export import export_family
from services.registrations.web.schemas import HouseholdSchema
from shared.audit_web import request_actor
from shared.auth import current_principal, require_city_wide_manager, require_roles
from shared.errors import PROBLEM_CONTENT_TYPE, NotFound
from shared.web import ProblemSchema

blp = Blueprint("family_households", __name__,
                description="A family's household, for city support staff and the other Guichet services.")


@blp.route("/households/<family_account>")
class FamilyHousehold(MethodView):
    @require_roles("manager", "service")
    @blp.response(200, HouseholdSchema)
    @blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description="This family has not declared a household")
    def get(self, family_account: str):
        """A family's household (city support staff and other Guichet services)"""
        if "service" not in current_principal().roles:
            require_city_wide_manager()
        household = RegistrationsComponents.current().households.get(family_account)
        if household is None:
            raise NotFound("This family has not declared a household.", code="household-not-found")
        return household


@blp.route("/households/<family_account>/export")
class FamilyExport(MethodView):
    @require_roles("manager")
    @blp.doc(responses={200: {"description": "every record this service holds about the family, by table (docs/privacy.md)",
                            "content": {"application/json": {"schema": {"type": "object"}}}}})
    def get(self, family_account: str):
        """Everything registrations holds about a family, as JSON: for an agent answering an access request"""
        require_city_wide_manager()
        return export_family(RegistrationsComponents.current().engine, family_account)


@blp.route("/households/<family_account>/erasure")
class FamilyErasure(MethodView):
    @require_roles("manager")
    @blp.doc(responses={200: {"description": "erased: the household and children are gone, the applications kept under a pseudonym",
                            "content": {"application/json": {"schema": {"type": "object"}}}}})
    @blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                      description="refused while an application of the family is open (code open-application)")
    def post(self, family_account: str):
        """Erase a family's data on its request (an agent acting for the family)"""
        require_city_wide_manager()
        components = RegistrationsComponents.current()
        pseudonym = erase_family(components.engine, components.redis, family_account, "agent", components.clock(),
                                 request_actor("manager", on_behalf_of=family_account))
        return {"erased": True, "pseudonym": pseudonym}
