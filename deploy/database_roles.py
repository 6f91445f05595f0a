"""One PostgreSQL role per service, with rights on its own schema only (docs/deploy.md#production-neighbours).

For each service with a schema (deploy/catalogue.py):

    guichet_<service>_owner   owns the schema and every table in it; NOLOGIN: the migrations become it
                              (`SET ROLE`, DATABASE_MIGRATION_ROLE in shared/migrations.py), so what a migration
                              creates belongs to it
    guichet_<service>         LOGIN, the service's web and worker processes: USAGE on its schema and
                              SELECT/INSERT/UPDATE/DELETE on its tables (no DDL, no other schema)
    guichet_migrate           LOGIN, the migrations Job: may become every owner role (SET ROLE), and has no
                              rights of its own nor inherited from them (PostgreSQL 16 or later)

The statements are idempotent (run them again after adding a service) and take a schema that the earlier
single-user deployment created over: its tables are handed to the owner role. They run as a superuser (or the
database owner with CREATEROLE): locally from `create_roles` (tests/integration/test_postgres_roles.py), in
production from CloudNativePG's `postInitApplicationSQL` or by hand (deploy/kubernetes/dependencies/).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

MIGRATIONS_ROLE = "guichet_migrate"
# What shared.migrations.upgrade becomes for each service (DATABASE_MIGRATION_ROLE).
OWNER_ROLE_TEMPLATE = "guichet_{service}_owner"


def owner_role(service: str, prefix: str = "guichet") -> str:
    return f"{prefix}_{service}_owner"


def service_role(service: str, prefix: str = "guichet") -> str:
    return f"{prefix}_{service}"


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


def _create_role(role: str, login: bool) -> str:
    options = "LOGIN" if login else "NOLOGIN"
    return (f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
            f"CREATE ROLE {_identifier(role)} {options}; END IF; END $$")


def roles_sql(database: str, services: Iterable[str], prefix: str = "guichet",
              migrations_role: str = MIGRATIONS_ROLE) -> list[str]:
    """The statements that create the roles (without passwords: CloudNativePG's managed roles or
    `create_roles` set them) and give each service its own schema."""
    migrator = _identifier(migrations_role)
    statements = [_create_role(migrations_role, login=True),
                  f"REVOKE ALL ON DATABASE {_identifier(database)} FROM PUBLIC",
                  "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                  f"GRANT CONNECT ON DATABASE {_identifier(database)} TO {migrator}"]
    for service in services:
        schema, owner, user = _identifier(service), owner_role(service, prefix), service_role(service, prefix)
        statements += [
            _create_role(owner, login=False),
            _create_role(user, login=True),
            # It may become the owner (SET ROLE) but holds none of its rights without doing so (PostgreSQL 16+).
            f"GRANT {_identifier(owner)} TO {migrator} WITH INHERIT FALSE, SET TRUE",
            f"GRANT CONNECT ON DATABASE {_identifier(database)} TO {_identifier(user)}",
            f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {_identifier(owner)}",
            f"ALTER SCHEMA {schema} OWNER TO {_identifier(owner)}",
            # Tables and sequences an earlier release created as another user now belong to the owner.
            f"DO $$ DECLARE item record; BEGIN FOR item IN SELECT c.relname, c.relkind FROM pg_class c "
            f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{service}' "
            f"AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND pg_get_userbyid(c.relowner) <> '{owner}' "
            f"AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')) LOOP "
            f"EXECUTE format('ALTER %s %I.%I OWNER TO %I', CASE item.relkind WHEN 'S' THEN 'SEQUENCE' "
            f"WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, '{service}', item.relname, "
            f"'{owner}'); END LOOP; END $$",
            f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC",
            f"GRANT USAGE ON SCHEMA {schema} TO {_identifier(user)}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {_identifier(user)}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {_identifier(user)}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_identifier(owner)} IN SCHEMA {schema} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {_identifier(user)}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_identifier(owner)} IN SCHEMA {schema} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {_identifier(user)}",
        ]
    return statements


def create_roles(admin_url: str, passwords: Mapping[str, str], services: Iterable[str], prefix: str = "guichet",
                 migrations_role: str = MIGRATIONS_ROLE) -> None:
    """Run `roles_sql` on the database of `admin_url` (a superuser's) and set the login roles' passwords
    (`passwords`: role name -> password)."""
    from sqlalchemy import create_engine, make_url, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in roles_sql(make_url(admin_url).database, services, prefix, migrations_role):
                connection.execute(text(statement))
            for role, password in passwords.items():
                # A bound parameter cannot stand for a password in ALTER ROLE: quote it as a literal.
                literal = connection.execute(text("SELECT quote_literal(:p)"), {"p": password}).scalar_one()
                connection.execute(text(f"ALTER ROLE {_identifier(role)} WITH LOGIN PASSWORD {literal}"))
    finally:
        engine.dispose()


if __name__ == "__main__":
    # The statements for the production database (`guichet`), e.g. `psql -f` by its owner or a superuser.
    from deploy.catalogue import SERVICES_WITH_SCHEMAS

    print(";\n".join(roles_sql("guichet", SERVICES_WITH_SCHEMAS)) + ";")
