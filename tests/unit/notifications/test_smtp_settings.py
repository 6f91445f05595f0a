"""The SMTP settings as the worker reads them from the environment, and the ones it refuses to start with."""
from pathlib import Path

import pytest

from services.notifications.settings import NotificationsSettings


def config_from(**environ: str) -> NotificationsSettings:
    return NotificationsSettings.from_env("notifications-worker", environ)


def test_without_settings_mail_goes_in_clear_without_login_as_under_make_run():
    config = config_from()
    assert (config.smtp_host, config.smtp_port, config.smtp_security) == ("127.0.0.1", 1025, "none")
    assert config.smtp_username is None and config.smtp_password_file is None and config.smtp_ca_file is None


def test_tls_login_and_a_ca_bundle_are_read_from_the_environment():
    config = config_from(GUICHET_SMTP_HOST="smtp.paris.fr", GUICHET_SMTP_PORT="465", GUICHET_SMTP_SECURITY="TLS",
                         GUICHET_SMTP_USERNAME="guichet", GUICHET_SMTP_PASSWORD_FILE="/etc/guichet/smtp/password",
                         GUICHET_SMTP_CA_FILE="/etc/guichet/smtp/ca.pem")
    assert (config.smtp_host, config.smtp_port, config.smtp_security) == ("smtp.paris.fr", 465, "tls")
    assert config.smtp_username == "guichet"
    assert config.smtp_password_file == Path("/etc/guichet/smtp/password")
    assert config.smtp_ca_file == Path("/etc/guichet/smtp/ca.pem")


def test_an_empty_username_as_a_configmap_may_carry_means_no_login():
    assert config_from(GUICHET_SMTP_SECURITY="starttls", GUICHET_SMTP_USERNAME="").smtp_username is None


def test_an_unknown_security_stops_the_worker_instead_of_sending_in_clear():
    with pytest.raises(ValueError, match="GUICHET_SMTP_SECURITY"):
        config_from(GUICHET_SMTP_SECURITY="ssl")


def test_a_login_over_plain_smtp_is_refused():
    with pytest.raises(ValueError, match="in clear"):
        config_from(GUICHET_SMTP_USERNAME="guichet", GUICHET_SMTP_PASSWORD_FILE="/run/password")


def test_a_login_needs_a_password_file():
    with pytest.raises(ValueError, match="GUICHET_SMTP_PASSWORD_FILE"):
        config_from(GUICHET_SMTP_SECURITY="starttls", GUICHET_SMTP_USERNAME="guichet")


def test_the_password_itself_in_the_environment_is_not_read():
    config = config_from(GUICHET_SMTP_SECURITY="starttls", GUICHET_SMTP_PASSWORD="hunter2")
    assert "hunter2" not in repr(config)
