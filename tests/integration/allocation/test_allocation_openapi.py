"""The OpenAPI document describes every field and parameter the allocation API reads or writes."""
from tests.support.openapi import referenced_schemas, walk_parameters


def test_every_field_and_parameter_is_described(app):
    spec = app.test_client().get("/openapi.json").json
    names = referenced_schemas(spec)
    assert {"Run", "Statistics", "AllocationOverview", "Draw", "Explanation", "ChoiceExplanation", "Cutoff",
            "Problem"} <= names
    undescribed = [f"{name}.{field}" for name in sorted(names)
                   for field, prop in spec["components"]["schemas"][name].get("properties", {}).items()
                   if not prop.get("description")]
    assert undescribed == []
    parameters = list(walk_parameters(spec["paths"]))
    assert {"campaign_id", "application_id", "Idempotency-Key"} <= {parameter["name"] for parameter in parameters}
    assert [parameter["name"] for parameter in parameters if not parameter.get("description")] == []


def test_only_the_draw_is_public(app):
    paths = app.test_client().get("/openapi.json").json["paths"]
    secured = {path: [method for method, operation in operations.items()
                      if method != "parameters" and operation.get("security")]
               for path, operations in paths.items()}
    assert secured["/draws/{campaign_id}"] == secured["/draws/{campaign_id}/bundle.json"] == []
    assert secured["/campaigns/{campaign_id}/allocation/publish"] == ["post"]
    assert secured["/explanations/{application_id}"] == ["get"]
