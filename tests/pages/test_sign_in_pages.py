"""Signing in and out through the provider's own pages, in Chromium: the role decides which pages open, and
after sign-out neither the back button nor the provider's session brings a family's data back."""
from __future__ import annotations

from datetime import date

from playwright.sync_api import expect

from tests.support.pages import declare_family, fill_login_form, sign_in


def test_a_parent_signs_out_and_the_back_button_shows_no_data(stack, page):
    account = stack.account("parent")
    declare_family(stack, account, "Anouk", date(2016, 4, 2))
    sign_in(page, stack.portal, account)
    page.goto(f"{stack.portal}/famille")
    expect(page.get_by_text("Anouk").first).to_be_visible()
    expect(page.locator(".who")).to_have_text(account.username)

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Vous êtes déconnecté")).to_be_visible()
    page.go_back()
    # Not kept by the browser (no-store), asked again: no session here nor at the provider, so its login form.
    expect(page.locator("#username")).to_be_visible()
    expect(page.get_by_text("Anouk")).to_have_count(0)
    page.goto(f"{stack.portal}/famille")
    expect(page.locator("#username")).to_be_visible()


def test_a_parent_account_cannot_open_the_managers_pages(stack, page):
    sign_in(page, stack.portal, stack.account("parent"))
    answer = page.goto(f"{stack.portal}/gestion")
    assert answer.status == 403
    expect(page.get_by_role("alert")).to_contain_text("réservée à un autre profil")


def test_an_account_without_a_guichet_role_is_told_so(stack, page):
    page.goto(f"{stack.portal}/connexion")
    fill_login_form(page, stack.account(None))
    expect(page.get_by_role("alert")).to_contain_text("n'a pas accès à ce portail")
