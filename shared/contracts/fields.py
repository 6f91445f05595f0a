"""Field helpers for contracts: every field of an event carries its description."""


def described(field_class, description, **kwargs):
    return field_class(metadata={"description": description}, **kwargs)
