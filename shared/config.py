"""The one place that reads the environment (12-factor): every setting has a local default."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_STATE_DIR = REPO_ROOT / ".local"


@dataclass(frozen=True)
class Settings:
    service_name: str
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    redis_url: str = "redis://127.0.0.1:16379/0"
    # Topics are prefixed so that several stacks (or tests) can share one broker without seeing each other.
    kafka_topic_prefix: str = ""
    jwt_issuer: str = "https://connexion.guichet.local"
    jwt_audience: str = "guichet"
    jwt_public_key_file: Path = LOCAL_STATE_DIR / "keys" / "dev-jwt-public.pem"
    jwt_private_key_file: Path = LOCAL_STATE_DIR / "keys" / "dev-jwt-private.pem"
    log_level: str = "INFO"
    db_pool_size: int = 5
    db_max_overflow: int = 10
    kafka_linger_ms: int = 5
    # A relay sends thousands of JSON events at once (a draw: 100,000): large compressed batches take
    # it from ~800 to ~6,000 events/s on one partition. gzip because every client reads it natively.
    kafka_compression_type: str = "gzip"
    kafka_batch_bytes: int = 524_288
    public_cache_ttl_seconds: float = 2.0
    # Intake admission (OWASP API4): beyond these, 429 with Retry-After before the service slows down.
    intake_admissions_per_second: int = 3000
    intake_per_ip_per_minute: int = 300
    intake_per_account_per_minute: int = 20
    # Reverse proxies in front of the services whose X-Forwarded-For/-Proto to trust (0: none, the
    # client's address is the peer's). Behind one ingress, 1: per-IP limits then see parents, not the proxy.
    trusted_proxies: int = 0
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, service_name: str, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        defaults = cls(service_name=service_name)

        def text(name: str, default: str) -> str:
            return env.get(name) or default

        def number(name: str, default: float, kind=int):
            raw = env.get(name)
            if raw in (None, ""):
                return default
            try:
                return kind(raw)
            except ValueError as exc:
                raise ValueError(f"environment variable {name}={raw!r} is not a {kind.__name__}") from exc

        return cls(
            service_name=service_name,
            database_url=normalise_database_url(text("DATABASE_URL", defaults.database_url)),
            kafka_bootstrap_servers=text("KAFKA_BOOTSTRAP_SERVERS", defaults.kafka_bootstrap_servers),
            redis_url=text("REDIS_URL", defaults.redis_url),
            kafka_topic_prefix=text("KAFKA_TOPIC_PREFIX", defaults.kafka_topic_prefix),
            jwt_issuer=text("JWT_ISSUER", defaults.jwt_issuer),
            jwt_audience=text("JWT_AUDIENCE", defaults.jwt_audience),
            jwt_public_key_file=Path(text("JWT_PUBLIC_KEY_FILE", str(defaults.jwt_public_key_file))),
            jwt_private_key_file=Path(text("JWT_PRIVATE_KEY_FILE", str(defaults.jwt_private_key_file))),
            log_level=text("LOG_LEVEL", defaults.log_level).upper(),
            db_pool_size=number("DB_POOL_SIZE", defaults.db_pool_size),
            db_max_overflow=number("DB_MAX_OVERFLOW", defaults.db_max_overflow),
            kafka_linger_ms=number("KAFKA_LINGER_MS", defaults.kafka_linger_ms),
            kafka_compression_type=text("KAFKA_COMPRESSION_TYPE", defaults.kafka_compression_type),
            kafka_batch_bytes=number("KAFKA_BATCH_BYTES", defaults.kafka_batch_bytes),
            public_cache_ttl_seconds=number("PUBLIC_CACHE_TTL_SECONDS", defaults.public_cache_ttl_seconds, float),
            intake_admissions_per_second=number("INTAKE_ADMISSIONS_PER_SECOND", defaults.intake_admissions_per_second),
            intake_per_ip_per_minute=number("INTAKE_PER_IP_PER_MINUTE", defaults.intake_per_ip_per_minute),
            intake_per_account_per_minute=number("INTAKE_PER_ACCOUNT_PER_MINUTE",
                                                 defaults.intake_per_account_per_minute),
            trusted_proxies=number("TRUSTED_PROXIES", defaults.trusted_proxies),
            extra={k: v for k, v in env.items() if k.startswith("GUICHET_")},
        )

    def environment(self) -> dict[str, str]:
        """The variables from which `from_env` reads these servers, topics, keys and log level back: how a
        test or a benchmark starts a service's worker as a process against its own servers."""
        return {"DATABASE_URL": self.database_url, "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
                "REDIS_URL": self.redis_url, "KAFKA_TOPIC_PREFIX": self.kafka_topic_prefix,
                "JWT_PUBLIC_KEY_FILE": str(self.jwt_public_key_file),
                "JWT_PRIVATE_KEY_FILE": str(self.jwt_private_key_file), "LOG_LEVEL": self.log_level}


def normalise_database_url(url: str) -> str:
    """Accept the libpq-style URLs people paste (postgres://, postgresql://) and pin the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
