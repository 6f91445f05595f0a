"""Reading a service's OpenAPI document in tests: the schemas its paths use, and every parameter."""


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
