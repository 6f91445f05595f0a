"""Helpers of the page tests (tests/pages): the running stack's address book, accounts at the OpenID Connect
provider and API clients carrying their tokens, signing in through the provider's own login form, and
campaigns and families made through the services' APIs."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError

from services.portal.client.api import ServiceClient
from shared.config import Settings
from shared.domain.paris import PARIS
from tests.support.keycloak import Account, Provider

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@dataclass
class Stack:
    settings: Settings
    urls: dict[str, str]
    logs: Path
    provider: Provider
    _managers: list[Account] = field(default_factory=list)

    @property
    def portal(self) -> str:
        return self.urls["portal"]

    def account(self, role: str | None) -> Account:
        """A new person at the provider, with a password and the role (None: no Guichet role)."""
        return self.provider.admin().create_account(role)

    def client(self, service: str, account: Account) -> ServiceClient:
        """The service's API with a fresh access token of the account (the provider's token endpoint)."""
        return ServiceClient(service, self.urls[service], self.provider.password_token(account.username,
                                                                                       account.password))

    def manager(self, service: str) -> ServiceClient:
        if not self._managers:
            self._managers.append(self.account("manager"))
        return self.client(service, self._managers[0])

    def parent(self, service: str, account: Account) -> ServiceClient:
        return self.client(service, account)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, portal: str, account: Account) -> None:
    """Through the provider's own login form, as a person would: the portal sends the browser there."""
    page.goto(f"{portal}/connexion")
    fill_login_form(page, account)


def fill_login_form(page, account: Account) -> None:
    page.locator("#username").fill(account.username)
    page.locator("#password").fill(account.password)
    page.locator("#kc-login").click()
    page.wait_for_load_state()


def lottery_campaign(opens_in: timedelta, title: str, capacity: int = 10, closes_in: timedelta = timedelta(hours=1),
                     mode: str = "lottery", four_eyes: bool = False) -> dict:
    """A campaign body for the API; without four eyes unless asked (the tests of families' pages need the
    automatic draw, which waits for a second manager's approval under four eyes)."""
    now = datetime.now(timezone.utc)
    closes = now + closes_in
    # A Paris day, as the services read activity dates: the UTC date is a day early from 23:00 to midnight UTC,
    # when a close pushed back by a day then fell on the activity's first day and was refused.
    start = (closes + timedelta(days=2)).astimezone(PARIS).date()
    return {
        "title": title, "kind": "sport_vacances", "description": "Stages sportifs des vacances.",
        "opens_at": (now + opens_in).isoformat(timespec="seconds"), "closes_at": closes.isoformat(timespec="seconds"),
        "reference_date": start.isoformat(), "max_choices": 2, "publication_needs_second_manager": four_eyes,
        "policy": {"mode": mode, "criteria": [], "reserved_shares": [], "lottery_weight_per_unsuccessful_year": 0,
                   "keep_siblings_together": False, "acceptance_delay_hours": 72},
        "offers": [{"title": "Escalade — initiation", "site": "Gymnase Jean Dame", "arrondissement": 2,
                    "starts_on": start.isoformat(), "ends_on": (start + timedelta(days=4)).isoformat(),
                    "min_age": 7, "max_age": 17, "capacity": capacity, "waitlist_limit": None,
                    "tariffs_cents": [400 + 100 * n for n in range(10)]}],
    }


def create_published_campaign(stack: Stack, body: dict) -> dict:
    campaigns = stack.manager("campaigns")
    created = campaigns.post("/campaigns", body, headers={"Idempotency-Key": uuid.uuid4().hex})
    campaign = created.data
    return campaigns.post(f"/campaigns/{campaign['id']}/publish", headers={"If-Match": created.headers["ETag"]}).data


def declare_family(stack: Stack, account: Account, first_name: str, birth_date: date, **facts) -> str:
    """A household with one child, through the registrations API; returns the child's id."""
    registrations = stack.parent("registrations", account)
    registrations.call("PUT", "/household", headers={"If-Match": "*"}, body={
        "single_parent": False, "quotient_tranche": 3, "quotient_justified_on": "2026-09-30", "arrondissement": 11,
        "postal_mail": False, "email": None, "language": "fr", **facts})
    child = registrations.post("/household/children", {"first_name": first_name, "last_name": "Martin",
                                                       "birth_date": birth_date.isoformat()},
                               headers={"Idempotency-Key": uuid.uuid4().hex})
    return child.data["child_id"]


def reloading(page, probe):
    """For `wait_until`: reload the page, then look. A reload that a navigation still under way interrupts
    (a link just clicked) counts as "not yet"."""
    def look():
        try:
            page.reload()
        except PlaywrightError:
            return None
        return probe()
    return look
