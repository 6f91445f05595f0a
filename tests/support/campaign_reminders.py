"""For the page tests: a closing reminder asked through notifications' API once the campaign's snapshot reached it
(notifications answers 404 `campaign-not-found` until its worker has read `campaign.published`)."""
from __future__ import annotations

from services.portal.client.api import ApiError, ServiceClient
from shared.waiting import wait_until


def ask_closing_reminder(notifications: ServiceClient, campaign_id: str, timeout: float = 30) -> None:
    def asked() -> bool:
        try:
            notifications.call("PUT", f"/notifications/closing-reminders/{campaign_id}")
        except ApiError as error:
            if error.code != "campaign-not-found":
                raise
            return False
        return True
    wait_until(asked, timeout=timeout, interval=0.5, what="notifications told of the campaign's publication")
