"""The Kafka clients' security options come from the settings alone; unset, the clients are as before."""
import pytest

from shared.config import Settings
from shared.kafka import client_options, security_options


def test_without_security_settings_the_clients_are_plaintext_as_before():
    settings = Settings.from_env("t", {})
    assert security_options(settings) == {}
    assert client_options(settings, client_id="x") == {"bootstrap_servers": ["127.0.0.1:19092"], "client_id": "x"}


def test_sasl_ssl_reads_the_password_from_its_file_and_trusts_the_given_ca(tmp_path):
    (tmp_path / "password").write_text("s3cret\n")
    settings = Settings.from_env("t", {"KAFKA_SECURITY_PROTOCOL": "sasl_ssl", "KAFKA_SASL_USERNAME": "guichet-allocation",
                                       "KAFKA_SASL_PASSWORD_FILE": str(tmp_path / "password"),
                                       "KAFKA_SSL_CAFILE": "/etc/guichet/kafka-ca/ca.crt"})
    assert security_options(settings) == {
        "security_protocol": "SASL_SSL", "ssl_cafile": "/etc/guichet/kafka-ca/ca.crt", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "guichet-allocation", "sasl_plain_password": "s3cret"}
    (tmp_path / "password").write_text("rotated")
    assert security_options(settings)["sasl_plain_password"] == "rotated"


def test_sasl_without_a_user_or_a_password_file_stops_the_process():
    with pytest.raises(ValueError, match="KAFKA_SASL_USERNAME"):
        security_options(Settings.from_env("t", {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}))
