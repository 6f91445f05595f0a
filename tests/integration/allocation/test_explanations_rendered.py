"""A published draw stores its explanations compact and each offer's cutoffs once (issue 18); every explanation
read back, through the store and through the parents' API, is the document the draw used to store whole."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from services.allocation.domain import sealed_draw
from services.allocation.domain.stored_explanations import is_compact
from services.allocation.handlers.jobs import DrawScheduler
from services.allocation.store.repository import explanation
from services.allocation.store.result_documents import ResultDocuments
from services.allocation.store.tables import decisions, offer_cutoffs
from services.allocation.usecases.draws import _campaign, draw_inputs
from services.allocation.usecases.seeds import lottery_secret
from tests.support.allocation import a_campaign, an_application, an_offer


def test_every_explanation_of_a_draw_reads_as_the_document_stored_whole_before(allocation, parent):
    offers = [an_offer(capacity=capacity, waitlist_limit=3, title=title)
              for capacity, title in ((2, "Judo"), (3, "Voile"), (1, "Escrime"), (0, "Poney"))]
    campaign = allocation.publish(a_campaign("priority_lottery", offers=offers,
                                             criteria=[{"name": "single_parent"}]))
    allocation.open(campaign)
    pick = random.Random(18)
    received = [an_application(campaign, *pick.sample(offers, 3), arrival=number, single_parent=number % 4 == 0)
                for number in range(30)]
    allocation.receive(*received)
    allocation.close(campaign)
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(0)).tick()

    with allocation.engine.connect() as connection:
        stored = connection.execute(select(decisions).where(decisions.c.campaign_id == campaign["campaign_id"])
                                    ).all()
        run_cutoffs = connection.execute(select(offer_cutoffs.c.offer_id)
                                         .where(offer_cutoffs.c.run_id == stored[0].run_id)).scalars().all()
        read = {str(row.application_id): explanation(connection, row.run_id, row.explanation) for row in stored}
        # Today's documents, whole, from the same inputs and secret: the draw is deterministic.
        copy = _campaign(connection, campaign["campaign_id"])
        inputs = draw_inputs(connection, copy)
        result = sealed_draw(inputs.policy, inputs.offers, inputs.applications,
                             lottery_secret(connection, campaign["campaign_id"])).result
    whole = ResultDocuments()
    assert len(stored) == 30 and all(is_compact(row.explanation) for row in stored)
    assert sorted(run_cutoffs) == sorted(offer["offer_id"] for offer in offers)
    assert read == {application_id: whole.explanation(outcome.explanation)
                    for application_id, outcome in result.outcomes.items()}
    beaten = [application for application in received
              if any(choice["standing"] == "not_admitted" and choice["cutoffs"]
                     for choice in read[str(application["application_id"])]["offers"])]
    assert beaten
    for application in beaten[:3]:
        answered = parent(application["family_account"], f"/explanations/{application['application_id']}").json
        assert answered["choices"] == read[str(application["application_id"])]["offers"]
