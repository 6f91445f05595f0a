"""Real Kafka, PostgreSQL, Redis and Keycloak (the OIDC provider) server processes on loopback, for a machine without Docker: one module
per server (kafka, postgres, redis) over what they share (base: the process, its pid file, log and readiness)."""
from deploy.local.servers.base import REPO, LocalServer, ServerStartError, free_port
from deploy.local.servers.kafka import KafkaServer, ensure_kafka_jars
from deploy.local.servers.keycloak import KeycloakServer, ensure_keycloak
from deploy.local.servers.postgres import PostgresServer
from deploy.local.servers.redis import RedisServer

__all__ = ["REPO", "KafkaServer", "KeycloakServer", "LocalServer", "PostgresServer", "RedisServer", "ServerStartError",
           "ensure_kafka_jars", "ensure_keycloak", "free_port"]
