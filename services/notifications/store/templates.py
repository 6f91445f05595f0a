"""The Jinja2 templates of `services/notifications/templates/<language>/<kind>.txt`: the subject and text
of one notification, in the family's language, from the context its kind builds (`domain/messages.py`)."""
from __future__ import annotations

from functools import partial
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from services.notifications.domain.messages import CONTEXTS, LANGUAGES, Facts, Message
from shared.formatting import DEFAULT_HELP_CHANNEL, HelpChannel, euros, help_channel, long_date, paris_instant


def _environment(language: str) -> Environment:
    # Plain text (email bodies, inbox, letters): nothing is HTML, so nothing to escape. A variable a
    # template names but the context lacks is an error, never a silently empty sentence.
    environment = Environment(loader=PackageLoader("services.notifications", f"templates/{language}"),
                              undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(day=partial(long_date, language=language),
                               instant=partial(paris_instant, language=language),
                               money=partial(euros, language=language))
    return environment


ENVIRONMENTS = {language: _environment(language) for language in LANGUAGES}


def render(kind: str, language: str, data: dict[str, Any], facts: Facts, portal_url: str,
           help: HelpChannel = DEFAULT_HELP_CHANNEL) -> Message:
    """The message of one notification in `language` (one of LANGUAGES), ending with the city's help channel as
    the portal's footer says it."""
    context = {**CONTEXTS[kind](data, facts, portal_url), "help_channel": help_channel(language, help)}
    template = ENVIRONMENTS[language].get_template(f"{kind}.txt")
    subject = "".join(template.blocks["subject"](template.new_context(context))).strip()
    return Message(subject=subject, body=template.render(context).strip() + "\n",
                   link=context.get("explanation_link"))
