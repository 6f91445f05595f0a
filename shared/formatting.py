"""Dates, instants and amounts as a parent reads them, in French or English.

Instants are shown in Europe/Paris wall-clock time whatever the server's zone. Names of days and
months are written out here rather than taken from the system locale, which servers rarely have.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from shared.domain.paris import PARIS

DAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}


def long_date(day: date, language: str) -> str:
    """'mardi 3 mars 2026', 'dimanche 1er mars 2026'; 'Tuesday 3 March 2026'."""
    number = "1er" if language == "fr" and day.day == 1 else str(day.day)
    return f"{DAYS[language][day.weekday()]} {number} {MONTHS[language][day.month - 1]} {day.year}"


def paris_instant(instant: datetime, language: str) -> str:
    """'mardi 3 mars 2026 à 11 h 00'; 'Tuesday 3 March 2026 at 11:00', in Paris time."""
    local = instant.astimezone(PARIS)
    if language == "fr":
        return f"{long_date(local.date(), language)} à {local:%H} h {local:%M}"
    return f"{long_date(local.date(), language)} at {local:%H:%M}"


def euros(cents: int, language: str) -> str:
    """'9,00 €'; '€9.00'. Negative amounts (credits) keep their sign."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    if language == "fr":
        return f"{sign}{whole},{fraction:02d} €"
    return f"{sign}€{whole}.{fraction:02d}"


# The city's help channel, named in every page's footer (portal) and at the end of every message
# (notifications): one wording for both. `{phone}` and `{form}` are filled as plain text or as links; the number
# and the form's address are each service's settings (GUICHET_HELP_PHONE, GUICHET_CONTACT_FORM_URL), Paris's here.
HELP_PHONE = "3975"
CONTACT_FORM_URL = "https://www.paris.fr/contact"
CONTACT_FORM_NAMES = {
    "fr": "formulaire de contact de la Ville",
    "en": "City's contact form",
}
HELP_SENTENCES = {
    "fr": "Besoin d'aide ? Appelez le {phone} (service gratuit + prix d'un appel), du lundi au vendredi, "
          "ou écrivez-nous par le {form}.",
    "en": "Need help? Call {phone} (free service + the price of a call), Monday to Friday, "
          "or write to us through the {form}.",
}


@dataclass(frozen=True)
class HelpChannel:
    """Where a family finds help: the city's number and its contact form."""
    phone: str = HELP_PHONE
    form_url: str = CONTACT_FORM_URL


DEFAULT_HELP_CHANNEL = HelpChannel()


def help_channel(language: str, channel: HelpChannel = DEFAULT_HELP_CHANNEL) -> str:
    """The help sentence as plain text (messages, letters): the contact form's address written out."""
    return HELP_SENTENCES[language].format(phone=channel.phone,
                                           form=f"{CONTACT_FORM_NAMES[language]} ({channel.form_url})")
