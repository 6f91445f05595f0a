"""One PostgreSQL role per service (deploy/database_roles.py): the migrations run as each schema's owner,
the service as a lesser role with rights on its own schema only. Against the tests' real PostgreSQL, with
role names of this test's own (roles are cluster-wide)."""
import secrets
import uuid

import pytest
import sqlalchemy as sa
from psycopg.errors import InsufficientPrivilege

from deploy.catalogue import SERVICES_WITH_SCHEMAS
from deploy.database_roles import create_roles, owner_role, service_role
from shared.config import Settings
from shared.migrations import upgrade
from tests.support.documents import PDF


@pytest.fixture
def roles(postgres_url):
    """A role prefix of this test's own; the roles are dropped after the test's databases."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    names = {"migrate": f"{prefix}_migrate",
             **{service: service_role(service, prefix) for service in SERVICES_WITH_SCHEMAS}}
    passwords = {role: secrets.token_urlsafe(12) for role in names.values()}
    databases: list[str] = []
    yield prefix, names, passwords, databases
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for database in databases:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        for service in SERVICES_WITH_SCHEMAS:
            connection.execute(sa.text(f'DROP ROLE IF EXISTS "{service_role(service, prefix)}"'))
            connection.execute(sa.text(f'DROP ROLE IF EXISTS "{owner_role(service, prefix)}"'))
        connection.execute(sa.text(f'DROP ROLE IF EXISTS "{names["migrate"]}"'))
    admin.dispose()


def url_as(database_url: str, role: str, password: str) -> str:
    return sa.make_url(database_url).set(username=role, password=password).render_as_string(hide_password=False)


def refused(url: str, statement: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(statement))
    except sa.exc.ProgrammingError as error:
        assert isinstance(error.orig, InsufficientPrivilege), error
        return True
    finally:
        engine.dispose()
    return False


def owners_of(url: str, schema: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(sa.text(
                "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = :schema AND c.relkind IN ('r', 'S')"),
                {"schema": schema}).scalars())
    finally:
        engine.dispose()


@pytest.fixture
def fresh_database(postgres_url, roles):
    """An empty database with the roles created, migrated by the migrations role becoming each owner."""
    prefix, names, passwords, databases = roles
    name = f"roles_{uuid.uuid4().hex[:10]}"
    databases.append(name)
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    superuser_url = sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    create_roles(superuser_url, passwords, SERVICES_WITH_SCHEMAS, prefix=prefix, migrations_role=names["migrate"])
    migrate_url = url_as(superuser_url, names["migrate"], passwords[names["migrate"]])
    for service in SERVICES_WITH_SCHEMAS:
        upgrade(service, Settings(service_name=f"{service}-migrations", database_url=migrate_url,
                                  database_migration_role=f"{prefix}_{{service}}_owner"))
    return superuser_url


def test_migrations_run_as_each_schemas_owner(fresh_database, roles):
    prefix = roles[0]
    for service in SERVICES_WITH_SCHEMAS:
        assert owners_of(fresh_database, service) == {owner_role(service, prefix)}, service


def test_a_service_role_cannot_read_another_schema_nor_change_its_own_tables(fresh_database, roles):
    _, names, passwords, _ = roles
    registrations = url_as(fresh_database, names["registrations"], passwords[names["registrations"]])
    allocation = url_as(fresh_database, names["allocation"], passwords[names["allocation"]])

    assert not refused(registrations, "SELECT count(*) FROM registrations.households")
    assert refused(registrations, "SELECT count(*) FROM allocation.decisions")
    assert refused(registrations, "INSERT INTO campaigns.outbox (event_id, event_type, topic, message_key, envelope) "
                                  "VALUES ('x', 'x', 'x', 'x', '{}')")
    assert refused(allocation, "SELECT count(*) FROM registrations.households")
    # Its own schema's structure is the owner's: no DDL from the service.
    assert refused(registrations, "CREATE TABLE registrations.smuggled (id int)")
    assert refused(registrations, "DROP TABLE registrations.households")
    assert refused(registrations, "CREATE TABLE public.smuggled (id int)")
    # And the migrations login reads no table by itself: it owns nothing until it becomes an owner.
    migrate = url_as(fresh_database, names["migrate"], passwords[names["migrate"]])
    assert refused(migrate, "SELECT count(*) FROM registrations.households")


def test_the_registrations_service_works_through_its_role(fresh_database, roles, make_settings, redis_client,
                                                          token_for):
    from services.registrations.app import create_app
    from services.registrations.settings import RegistrationsSettings

    _, names, passwords, _ = roles
    url = url_as(fresh_database, names["registrations"], passwords[names["registrations"]])
    app = create_app(make_settings("registrations", RegistrationsSettings, database_url=url))
    try:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token_for('parent', 'family-roles')}"}
        facts = {"single_parent": False, "quotient_tranche": 2, "quotient_justified_on": "2025-09-30",
                 "arrondissement": 11, "postal_mail": False, "postal_address": None,
                 "email": "famille@example.fr", "language": "fr"}
        declared = client.put("/household", json=facts, headers={**headers, "If-Match": "*"})
        assert declared.status_code == 200, declared.json
        assert client.get("/household", headers=headers).json["version"] == 1
        # A supporting document's bytes are a large object the service role creates, reads and owns.
        sent = client.post("/household/documents?fact=quotient_tranche", data=PDF, headers=headers)
        assert sent.status_code == 201, sent.json
        assert client.get(f"/household/documents/{sent.json['document_id']}", headers=headers).data == PDF
        assert client.get("/readyz").json["checks"]["database"]["ready"] is True
    finally:
        app.extensions["guichet.runtime"].close()


def test_a_database_migrated_by_one_user_is_handed_to_the_owners(roles, database_url):
    """The earlier deployment's single user created every table: the roles' statements give each schema's
    tables to its owner, and the service roles their rights on them."""
    prefix, names, passwords, _ = roles
    create_roles(database_url, passwords, SERVICES_WITH_SCHEMAS, prefix=prefix, migrations_role=names["migrate"])
    for service in SERVICES_WITH_SCHEMAS:
        assert owners_of(database_url, service) == {owner_role(service, prefix)}, service
    campaigns = url_as(database_url, names["campaigns"], passwords[names["campaigns"]])
    assert not refused(campaigns, "SELECT count(*) FROM campaigns.outbox")
    assert refused(campaigns, "SELECT count(*) FROM notifications.outbox")
    # Running the statements again changes nothing and fails nowhere.
    create_roles(database_url, passwords, SERVICES_WITH_SCHEMAS, prefix=prefix, migrations_role=names["migrate"])
    assert owners_of(database_url, "campaigns") == {owner_role("campaigns", prefix)}
