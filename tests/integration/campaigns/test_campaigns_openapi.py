"""The OpenAPI document describes every field and parameter the campaigns API reads or writes."""


def referenced_schemas(spec: dict) -> set[str]:
    """Names of the component schemas the paths use, directly or through other schemas."""
    schemas, found, pending = spec["components"]["schemas"], set(), [spec["paths"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            reference = node.get("$ref", "")
            if reference.startswith("#/components/schemas/") and reference.rsplit("/", 1)[1] not in found:
                name = reference.rsplit("/", 1)[1]
                found.add(name)
                pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def walk_parameters(node):
    """Every parameter object under `node` (path-level or per operation)."""
    if isinstance(node, dict):
        if {"in", "name"} <= node.keys():
            yield node
        for value in node.values():
            yield from walk_parameters(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_parameters(value)


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
