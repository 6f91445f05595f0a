"""Email through a relay that wants TLS and a login: real aiosmtpd servers with certificates made by
the test, and the courier's retries when the relay cannot be trusted or refuses the password."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from services.notifications.store import tables
from services.notifications.store.mailer import SmtpMailer
from tests.support.certificates import Authority
from tests.support.notifications import SmtpRecorder

USERNAME, PASSWORD = "guichet", "s3cret pass-phrase"
ADDRESS = "famille@example.org"

# aiosmtpd warns of AUTH without STARTTLS even when the whole connection is implicit TLS.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


class Logins:
    """aiosmtpd's authenticator: accepts USERNAME/PASSWORD only, and remembers every attempt."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, str, str]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.attempts.append((mechanism, login, password))
        accepted = (login, password) == (USERNAME, PASSWORD)
        return AuthResult(success=accepted, handled=False, auth_data=(mechanism, login) if accepted else None)


@pytest.fixture
def city_ca(tmp_path) -> Authority:
    return Authority.create(tmp_path, "city")


@pytest.fixture
def password_file(tmp_path) -> Path:
    path = tmp_path / "smtp-password"
    path.write_text(PASSWORD + "\n")  # as `kubectl create secret --from-file` of an echoed file keeps it
    return path


@pytest.fixture
def logins() -> Logins:
    return Logins()


def starttls_relay(context, logins: Logins, **options) -> SmtpRecorder:
    # require_starttls: no command but EHLO/STARTTLS/QUIT in clear; auth_require_tls: AUTH only after STARTTLS.
    return SmtpRecorder(tls_context=context, require_starttls=True, authenticator=logins, auth_require_tls=True,
                        auth_required=True, **options)


def implicit_tls_relay(context, logins: Logins) -> SmtpRecorder:
    # The whole connection is TLS; aiosmtpd's auth_require_tls only knows of STARTTLS, so it is off here.
    return SmtpRecorder(ssl_context=context, authenticator=logins, auth_require_tls=False, auth_required=True)


def send_through(notifications, relay: SmtpRecorder, security: str, password_file: Path, ca_file: Path,
                 host: str = "127.0.0.1") -> str:
    notifications.courier.mailer = SmtpMailer(host, relay.port, "Guichet <ne-pas-repondre@example.org>",
                                              timeout_seconds=10, security=security, username=USERNAME,
                                              password_file=password_file, ca_file=ca_file)
    account = notifications.household(email=ADDRESS)
    notifications.received(account, notifications.published_campaign())
    notifications.deliver()
    return account


def the_notification(notifications):
    with notifications.engine.connect() as connection:
        return connection.execute(select(tables.notifications)).one()


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_over_starttls_the_message_arrives_encrypted_and_signed_in(notifications, tmp_path, city_ca, password_file,
                                                                  logins, mechanism):
    others = [m for m in ("PLAIN", "LOGIN") if m != mechanism]
    with starttls_relay(city_ca.server_context(tmp_path), logins, auth_exclude_mechanism=others) as relay:
        account = send_through(notifications, relay, "starttls", password_file, city_ca.cert_file)

    (mail,) = relay.to(ADDRESS)
    assert mail["Message-ID"] == f"<{notifications.deliveries('email')[0].delivery_id}@guichet>"
    assert relay.sessions == [(True, (mechanism, USERNAME))]
    assert logins.attempts == [(mechanism, USERNAME, PASSWORD)]  # the file's line ending is not part of it
    assert notifications.statuses() == {"application_received": "delivered"}
    assert len(notifications.inbox(account)) == 1


def test_over_implicit_tls_the_message_arrives_encrypted_and_signed_in(notifications, tmp_path, city_ca,
                                                                     password_file, logins):
    with implicit_tls_relay(city_ca.server_context(tmp_path), logins) as relay:
        send_through(notifications, relay, "tls", password_file, city_ca.cert_file)

    assert len(relay.to(ADDRESS)) == 1
    assert relay.sessions[0][0] is True and relay.sessions[0][1][1] == USERNAME
    assert notifications.statuses() == {"application_received": "delivered"}


def test_a_refused_password_is_retried_and_a_corrected_secret_is_used_without_a_restart(
        notifications, tmp_path, city_ca, password_file, logins):
    password_file.write_text("last year's password\n")
    with starttls_relay(city_ca.server_context(tmp_path), logins) as relay:
        send_through(notifications, relay, "starttls", password_file, city_ca.cert_file)

        assert relay.messages == []
        failed = the_notification(notifications)
        assert failed.status == "pending" and failed.attempts == 1
        assert failed.last_error.startswith("SMTPAuthenticationError: (535")
        assert failed.next_attempt_at - notifications.clock() == timedelta(minutes=1)
        assert [row.sent_at for row in notifications.deliveries("email")] == [None]

        password_file.write_text(PASSWORD + "\n")  # the platform renews the mounted Secret
        notifications.clock.advance(minutes=1)
        notifications.deliver()

    assert len(relay.to(ADDRESS)) == 1
    assert notifications.statuses() == {"application_received": "delivered"}
    # smtplib tries every mechanism both sides offer before giving up: PLAIN then LOGIN, both refused.
    assert [password for _, _, password in logins.attempts] == ["last year's password"] * 2 + [PASSWORD]


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_relay_whose_certificate_another_ca_signed_gets_neither_message_nor_password(
        notifications, tmp_path, city_ca, password_file, logins, security):
    impostor = Authority.create(tmp_path, "impostor")
    context = impostor.server_context(tmp_path)
    relay = starttls_relay(context, logins) if security == "starttls" else implicit_tls_relay(context, logins)
    with relay:
        send_through(notifications, relay, security, password_file, city_ca.cert_file)

    assert relay.messages == [] and logins.attempts == []
    failed = the_notification(notifications)
    assert failed.status == "pending" and failed.attempts == 1
    assert "CERTIFICATE_VERIFY_FAILED" in failed.last_error


def test_a_certificate_from_the_right_ca_for_another_host_is_refused(notifications, tmp_path, city_ca,
                                                                   password_file, logins):
    with starttls_relay(city_ca.server_context(tmp_path, names=("smtp.example.org",)), logins) as relay:
        send_through(notifications, relay, "starttls", password_file, city_ca.cert_file)

    assert relay.messages == [] and logins.attempts == []
    assert "CERTIFICATE_VERIFY_FAILED" in the_notification(notifications).last_error


def test_the_system_cas_do_not_trust_a_private_ca(notifications, tmp_path, city_ca, password_file, logins):
    """Without GUICHET_SMTP_CA_FILE the system's bundle decides, and our test CA is not in it."""
    with starttls_relay(city_ca.server_context(tmp_path), logins) as relay:
        send_through(notifications, relay, "starttls", password_file, ca_file=None)

    assert relay.messages == [] and logins.attempts == []
    assert "CERTIFICATE_VERIFY_FAILED" in the_notification(notifications).last_error


def test_a_relay_that_offers_no_starttls_is_not_written_to_in_clear(notifications, city_ca, password_file):
    with SmtpRecorder() as plain_relay:
        send_through(notifications, plain_relay, "starttls", password_file, city_ca.cert_file)

    assert plain_relay.messages == []
    failed = the_notification(notifications)
    assert failed.status == "pending" and failed.last_error.startswith("SMTPNotSupportedError")
