"""Helpers of the page tests (tests/pages): the running stack's address book and API clients, signing in
through the portal's page, and campaigns and families made through the services' APIs."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from services.portal.client.api import ServiceClient
from shared.config import Settings
from shared.devtokens import issue_token

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@dataclass
class Stack:
    settings: Settings
    urls: dict[str, str]
    logs: Path

    @property
    def portal(self) -> str:
        return self.urls["portal"]

    def client(self, service: str, role: str, subject: str) -> ServiceClient:
        return ServiceClient(service, self.urls[service], issue_token(self.settings, subject, [role]))

    def manager(self, service: str) -> ServiceClient:
        return self.client(service, "manager", "agent-tests")

    def parent(self, service: str, account: str) -> ServiceClient:
        return self.client(service, "parent", account)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, portal: str, account: str, role: str = "parent") -> None:
    page.goto(f"{portal}/connexion")
    page.get_by_label("Identifiant du compte").fill(account)
    page.get_by_label("Parent" if role == "parent" else "Agent de la Ville (gestion des campagnes)").check()
    page.get_by_role("button", name="Se connecter").click()


def lottery_campaign(opens_in: timedelta, title: str, capacity: int = 10, closes_in: timedelta = timedelta(hours=1),
                     mode: str = "lottery") -> dict:
    now = datetime.now(timezone.utc)
    closes = now + closes_in
    start = (closes + timedelta(days=2)).date()
    return {
        "title": title, "kind": "sport_vacances", "description": "Stages sportifs des vacances.",
        "opens_at": (now + opens_in).isoformat(timespec="seconds"), "closes_at": closes.isoformat(timespec="seconds"),
        "reference_date": start.isoformat(), "max_choices": 2,
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


def declare_family(stack: Stack, account: str, first_name: str, birth_date: date, **facts) -> str:
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
    """For `wait_until`: reload the page, then look."""
    def look():
        page.reload()
        return probe()
    return look
