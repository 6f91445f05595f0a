import marshmallow as ma
import pytest
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.auth import TokenVerifier
from shared.config import Settings
from shared.errors import Conflict, field_error
from shared.web import create_service_app


class OfferIn(ma.Schema):
    title = ma.fields.String(required=True)
    capacity = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))
    tariffs = ma.fields.List(ma.fields.Integer(validate=ma.validate.Range(min=0)))


@pytest.fixture
def client():
    blp = Blueprint("offers", __name__, url_prefix="/offers")

    @blp.route("")
    class Offers(MethodView):
        @blp.arguments(OfferIn)
        @blp.response(201, OfferIn)
        def post(self, offer):
            if offer["title"] == "taken":
                raise Conflict("An offer with this title exists.", code="duplicate-title",
                               errors=[field_error("title", "already used")], existing="/offers/1")
            return offer

    @blp.route("/boom")
    def boom():
        raise RuntimeError("unexpected")

    app = create_service_app(Settings(service_name="errors-test"), title="t", description="d", blueprints=[blp],
                             token_verifier=TokenVerifier(b"unused", "i", "a"))
    return app.test_client()


def test_validation_error_names_each_wrong_field(client):
    response = client.post("/offers", json={"capacity": -1, "tariffs": [100, -5]})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == 422 and body["code"] == "validation-failed"
    fields = {e["field"]: e for e in body["errors"]}
    assert set(fields) == {"title", "capacity", "tariffs.1"}
    assert fields["tariffs.1"]["pointer"] == "#/tariffs/1"


def test_domain_problem_carries_code_fields_and_extensions(client):
    response = client.post("/offers", json={"title": "taken", "capacity": 3})
    assert response.status_code == 409
    assert response.json["code"] == "duplicate-title"
    assert response.json["errors"][0]["field"] == "title"
    assert response.json["existing"] == "/offers/1"
    assert response.json["type"] == "urn:guichet:problem:duplicate-title"


def test_unknown_route_and_unexpected_error_are_problems_too(client):
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    boom = client.get("/offers/boom")
    assert boom.status_code == 500 and boom.json["code"] == "internal-error"
    assert "unexpected" not in boom.get_data(as_text=True)  # internals are logged, not shown


def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["X-Request-ID"] == "abc123"
    assert client.get("/healthz").headers["X-Request-ID"]
