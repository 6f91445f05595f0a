"""The mail room's letters queue: a family who chose paper asks for a reminder before a campaign closes (it
closes within 24 h, so the reminder goes at once); the manager finds the letter with its envelope's address,
prints the page (one A4 page per letter, nothing of the portal around them: checked on Chromium's own PDF) and
marks the letters printed; they move to the printed ones. axe on the page."""
import re
import uuid
from datetime import date, timedelta

from playwright.sync_api import expect

from shared.waiting import wait_until
from tests.support.accessibility import axe_violations
from tests.support.campaign_reminders import ask_closing_reminder
from tests.support.pages import (
    create_published_campaign,
    declare_family,
    lottery_campaign,
    reloading,
    screenshot,
    sign_in,
)

ADDRESS = {"line1": "12 rue des Lilas", "line2": "Bâtiment B", "postal_code": "75011", "city": "Paris"}


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_the_mail_room_prints_the_letters_one_a_page_and_marks_them_printed(stack, page):
    title = f"Courriers {uuid.uuid4().hex[:4]}"
    campaign = create_published_campaign(stack, {**lottery_campaign(timedelta(seconds=2), title,
                                                                    closes_in=timedelta(hours=2)),
                                                 "waiting_room": False})
    family = stack.account("parent")
    declare_family(stack, family, "Léa", date(2016, 5, 14), postal_mail=True, postal_address=ADDRESS)
    ask_closing_reminder(stack.parent("notifications", family), campaign["id"])

    sign_in(page, stack.portal, stack.account("manager"))
    page.goto(f"{stack.portal}/gestion/courriers")
    subject = f"Les inscriptions ferment bientôt : {title}"
    letter = page.locator("article.letter", has=page.get_by_role("heading", name=f"Objet : {subject}"))
    wait_until(reloading(page, lambda: letter.count() == 1), timeout=60, interval=2, what="the letter queued")
    expect(letter.locator("address")).to_have_text("12 rue des Lilas\nBâtiment B\n75011 PARIS")  # the city in capitals, as La Poste asks
    expect(letter).to_contain_text("Vous recevez ce message parce que vous avez demandé un rappel avant la clôture.")
    assert axe_violations(page) == []
    screenshot(page, "gestion-courriers")

    # Printed: one page per letter, and only the letters (no menu, no buttons, no footer).
    letters_on_page = page.locator("article.letter").count()
    page.emulate_media(media="print")
    expect(page.locator("header.site")).to_be_hidden()
    for hidden in (page.locator("footer.site"), letter.locator(".no-print")):
        expect(hidden).to_be_hidden()
    expect(letter.locator("address")).to_be_visible()
    assert pdf_pages(page.pdf(format="A4")) == letters_on_page
    page.emulate_media(media="screen")

    page.get_by_role("button", name=re.compile(r"^Marquer ce(s \d+)? courriers? comme imprimés?$")).click()
    expect(page.get_by_text(re.compile(r"\d+ courriers? marqués? comme imprimés?\."))).to_be_visible()
    expect(letter).to_have_count(0)
    page.get_by_role("link", name="Courriers déjà imprimés").click()
    expect(letter).to_have_count(1)
    expect(letter).to_contain_text("imprimé le")
    assert axe_violations(page) == []
