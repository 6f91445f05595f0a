"""The OpenAPI document describes every field and parameter the campaigns API reads or writes."""
from tests.support.openapi import referenced_schemas, walk_parameters


def test_every_field_and_parameter_is_described(app):
    spec = app.test_client().get("/openapi.json").json
    names = referenced_schemas(spec)
    assert {"Campaign", "CampaignCreate", "CampaignPatch", "Offer", "OfferPatch", "Policy", "PublicCampaign",
            "Clone", "ExtendClose", "Problem"} <= names
    undescribed = [f"{name}.{field}" for name in sorted(names)
                   for field, prop in spec["components"]["schemas"][name].get("properties", {}).items()
                   if not prop.get("description")]
    assert undescribed == []
    parameters = list(walk_parameters(spec["paths"]))
    assert {"age", "campaign_id", "If-Match", "Idempotency-Key"} <= {parameter["name"] for parameter in parameters}
    assert [parameter["name"] for parameter in parameters if not parameter.get("description")] == []


def test_writes_document_their_preconditions(app):
    patch = app.test_client().get("/openapi.json").json["paths"]["/campaigns/{campaign_id}"]["patch"]
    assert {"412", "428", "422"} <= set(patch["responses"])
    assert "If-Match" in [parameter["name"] for parameter in patch["parameters"]]
    assert patch["security"] == [{"bearerAuth": []}]
