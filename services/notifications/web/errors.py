"""Which problem response each notifications use-case exception is (installed by `app.py`)."""
from __future__ import annotations

from services.notifications.usecases import (
    CampaignAlreadyOpen,
    CampaignClosed,
    CampaignNotFound,
    ClosingReminderNotFound,
    FailureNotFound,
    LetterNotFound,
    MessageNotFound,
    SubscriptionNotFound,
)
from shared.errors import Conflict, NotFound

PROBLEMS = {
    CampaignNotFound: lambda error: NotFound("No published campaign has this id.", code="campaign-not-found"),
    CampaignAlreadyOpen: lambda error: Conflict("This campaign is already open: apply now.",
                                                code="campaign-already-open"),
    CampaignClosed: lambda error: Conflict("This campaign's applications are closed.", code="campaign-closed"),
    ClosingReminderNotFound: lambda error: NotFound("You asked for no reminder before this campaign closes.",
                                                    code="closing-reminder-not-found"),
    SubscriptionNotFound: lambda error: NotFound("You are not subscribed to this campaign.",
                                                 code="subscription-not-found"),
    MessageNotFound: lambda error: NotFound("No message of yours has this id.", code="message-not-found"),
    FailureNotFound: lambda error: NotFound("No failed notification has this id.", code="failure-not-found"),
    LetterNotFound: lambda error: NotFound("No letter has this id.", code="letter-not-found"),
}
