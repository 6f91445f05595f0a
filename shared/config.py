"""The one place that reads the environment (12-factor): every setting is a typed field with a local default.

`Settings` holds what every process needs (its servers, keys, log level). Each service declares its own
subclass in `services/<service>/settings.py` and adds its fields with `setting(...)`, naming the variable
each one is read from; `from_env` parses them all with environs (marshmallow fields, so a wrong value
names its variable and stops the process at start), and `environment()` writes them back for a child
process. There is no bag of loose strings: a variable no field names is not read.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Self

from environs import Env

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_STATE_DIR = REPO_ROOT / ".local"

# How a field's variable is parsed: the name of an environs method, or one of these.
_SECONDS = "seconds"
_DATABASE_URL = "database_url"
_UPPER = "upper"
_FLAG = "flag"


def setting(variable: str, default: Any, parse: str = "str") -> Any:
    """A settings field read from `variable`; `parse` is an environs method (`str`, `int`, `float`, `path`,
    `bool`), `seconds` (a number of seconds, possibly fractional, into a timedelta), `flag` ("1" or unset)
    or `upper`. An empty variable counts as unset: a ConfigMap may carry a key with no value."""
    return field(default=default, metadata={"variable": variable, "parse": parse})


class _MappingEnv(Env):
    """environs reading a given mapping instead of os.environ, so tests and child processes can say
    exactly which environment a process would see."""

    def __init__(self, source: Mapping[str, str]):
        super().__init__(eager=True)
        self._source = source

    def _get_value(self, env_key: str, default: Any) -> Any:
        value = self._source.get(env_key)
        return default if value in (None, "") else value


def _read(env: Env, variable: str, parse: str, default: Any) -> Any:
    raw = env._get_value(variable, None)
    if raw is None:
        return default
    if parse == _SECONDS:
        return timedelta(seconds=env.float(variable))
    if parse == _DATABASE_URL:
        return normalise_database_url(env.str(variable))
    if parse == _UPPER:
        return env.str(variable).upper()
    if parse == _FLAG:
        return env.str(variable).strip() == "1"
    return getattr(env, parse)(variable)


def _write(value: Any, parse: str) -> str | None:
    if value is None:
        return None
    if parse == _SECONDS:
        return repr(value.total_seconds())
    if parse == _FLAG:
        return "1" if value else "0"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Settings:
    service_name: str
    database_url: str = setting("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/postgres",
                                _DATABASE_URL)
    kafka_bootstrap_servers: str = setting("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    redis_url: str = setting("REDIS_URL", "redis://127.0.0.1:16379/0")
    # Topics are prefixed so that several stacks (or tests) can share one broker without seeing each other.
    kafka_topic_prefix: str = setting("KAFKA_TOPIC_PREFIX", "")
    jwt_issuer: str = setting("JWT_ISSUER", "https://connexion.guichet.local")
    jwt_audience: str = setting("JWT_AUDIENCE", "guichet")
    jwt_public_key_file: Path = setting("JWT_PUBLIC_KEY_FILE", LOCAL_STATE_DIR / "keys" / "dev-jwt-public.pem", "path")
    jwt_private_key_file: Path = setting("JWT_PRIVATE_KEY_FILE", LOCAL_STATE_DIR / "keys" / "dev-jwt-private.pem",
                                         "path")
    # The OpenID Connect provider (shared.auth): set, every service verifies tokens against its published keys
    # (make run: the local Keycloak's `guichet` realm; production: the city's provider). Unset: the static key
    # file above, for the provider-less tests only. JWT_AUDIENCE is the audience checked in both modes.
    oidc_issuer: str = setting("OIDC_ISSUER", "")
    # Where the provider puts the roles (a dotted path), and how its role names read as Guichet's
    # ("provider-role=guichet-role,…"; empty: the same names).
    oidc_roles_claim: str = setting("OIDC_ROLES_CLAIM", "realm_access.roles")
    oidc_role_mapping: str = setting("OIDC_ROLE_MAPPING", "")
    # Scoped managers (shared.auth.parse_manager_scopes): "role-or-group=kind:<kind>,campaign:<id>|*;…", matched
    # against the provider's role names and the groups at OIDC_GROUPS_CLAIM. Empty: every manager is city-wide;
    # set: a manager matching no entry may manage nothing.
    manager_scopes: str = setting("GUICHET_MANAGER_SCOPES", "")
    oidc_groups_claim: str = setting("OIDC_GROUPS_CLAIM", "groups")
    # The provider's keys are read again this often (a removed key is refused within it), and on a token naming
    # an unknown key at most once per OIDC_JWKS_MIN_REFRESH.
    oidc_jwks_max_age: timedelta = setting("OIDC_JWKS_MAX_AGE", timedelta(minutes=5), _SECONDS)
    oidc_jwks_min_refresh: timedelta = setting("OIDC_JWKS_MIN_REFRESH", timedelta(seconds=10), _SECONDS)
    # Clock skew tolerated on `exp`, `nbf` and `iat` (both modes).
    oidc_leeway: timedelta = setting("OIDC_LEEWAY", timedelta(seconds=30), _SECONDS)
    # This process's own client at the provider, when it calls another service's API (client-credentials grant,
    # role `service`): the notifications worker reading households from registrations.
    oidc_client_id: str = setting("OIDC_CLIENT_ID", "")
    oidc_client_secret: str = setting("OIDC_CLIENT_SECRET", "")
    log_level: str = setting("LOG_LEVEL", "INFO", _UPPER)
    db_pool_size: int = setting("DB_POOL_SIZE", 5, "int")
    db_max_overflow: int = setting("DB_MAX_OVERFLOW", 10, "int")
    kafka_linger_ms: int = setting("KAFKA_LINGER_MS", 5, "int")
    # A relay sends thousands of JSON events at once (a draw: 100,000): large compressed batches take
    # it from ~800 to ~6,000 events/s on one partition. gzip because every client reads it natively.
    kafka_compression_type: str = setting("KAFKA_COMPRESSION_TYPE", "gzip")
    kafka_batch_bytes: int = setting("KAFKA_BATCH_BYTES", 524_288, "int")
    # Reverse proxies in front of the services whose X-Forwarded-For/-Proto to trust (0: none, the
    # client's address is the peer's). Behind one ingress, 1: per-IP limits then see parents, not the proxy.
    trusted_proxies: int = setting("TRUSTED_PROXIES", 0, "int")
    # Kafka's security (docs/deploy.md#production-neighbours). Unset: PLAINTEXT, as on the local stack. In
    # production SASL_SSL with SCRAM-SHA-512: one principal per service, its password read from a mounted file
    # (each new client reads it again, so a rotated Secret is picked up without a new image), and the CA that
    # signed the brokers' certificates.
    kafka_security_protocol: str = setting("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", _UPPER)
    kafka_sasl_mechanism: str = setting("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", _UPPER)
    kafka_sasl_username: str = setting("KAFKA_SASL_USERNAME", "")
    kafka_sasl_password_file: Path | None = setting("KAFKA_SASL_PASSWORD_FILE", None, "path")
    kafka_ssl_cafile: Path | None = setting("KAFKA_SSL_CAFILE", None, "path")
    # The role migrations become (`SET ROLE`) so that what they create belongs to the service's schema owner,
    # `{service}` standing for the service migrated: `guichet_{service}_owner` in production, where the
    # migrations Job logs in as a member of every owner role (deploy/database_roles.py). Unset: no SET ROLE.
    database_migration_role: str = setting("DATABASE_MIGRATION_ROLE", "")

    @classmethod
    def from_env(cls, service_name: str, environ: Mapping[str, str] | None = None) -> Self:
        env = _MappingEnv(os.environ if environ is None else environ)
        values = {f.name: _read(env, f.metadata["variable"], f.metadata["parse"], f.default)
                  for f in dataclasses.fields(cls) if "variable" in f.metadata}
        return cls(service_name=service_name, **values)

    @classmethod
    def variables(cls) -> tuple[str, ...]:
        """Every environment variable this class reads (the Kubernetes ConfigMap test holds keys to them)."""
        return tuple(f.metadata["variable"] for f in dataclasses.fields(cls) if "variable" in f.metadata)

    def environment(self) -> dict[str, str]:
        """The variables from which `from_env` reads these settings back: how a test or a benchmark starts
        a service's worker as a process against its own servers, topics, keys and options."""
        written = {f.metadata["variable"]: _write(getattr(self, f.name), f.metadata["parse"])
                   for f in dataclasses.fields(self) if "variable" in f.metadata}
        return {name: value for name, value in written.items() if value is not None}


def normalise_database_url(url: str) -> str:
    """Accept the libpq-style URLs people paste (postgres://, postgresql://) and pin the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
