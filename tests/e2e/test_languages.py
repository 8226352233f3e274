"""Browser: the footer language switcher, remembered per subscriber across logins and browsers."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, Page, expect

from kabinet.billing.tests.factories import (
    CustomerFactory,
    PersonalAccountFactory,
    SubscriptionFactory,
    TariffFactory,
)
from kabinet.identity.models import User

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "tatar@example.ru"
PASSWORD = "Secret-pass-2026"


@pytest.fixture
def subscriber() -> User:
    customer = CustomerFactory()
    user = User.objects.create_user(email=EMAIL, password=PASSWORD, customer=customer, email_verified=True)
    account = PersonalAccountFactory(customer=customer, service_kind="internet", balance_kopecks=100000)
    tariff = TariffFactory(code="home-100", name="Домашний 100", period="month", price_kopecks=41500)
    SubscriptionFactory(personal_account=account, tariff=tariff, started_on=dt.date(2026, 11, 1))
    return user


def _login(page: Page, base: str) -> None:
    page.goto(base + "/accounts/login/")
    page.locator("input[name=login]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()


def _switch(page: Page, language: str, button: str) -> None:
    footer = page.locator("footer")
    footer.locator("select[name=language]").select_option(language)
    footer.get_by_role("button", name=button).click()


def test_tatar_is_remembered_per_subscriber_and_russian_comes_back(
    live_server, page: Page, browser: Browser, subscriber: User
) -> None:
    base = live_server.url
    # given: logged in, the cabinet is in Russian
    _login(page, base)
    expect(page.get_by_role("heading", level=1)).to_have_text("Мои счета")
    expect(page.locator("html")).to_have_attribute("lang", "ru")

    # when: the subscriber switches to Tatar in the footer
    _switch(page, "tt", "Сменить")

    # then: the dashboard is in Tatar and the choice is stored on the user
    expect(page.get_by_role("heading", level=1)).to_have_text("Минем счётлар")
    expect(page.locator("html")).to_have_attribute("lang", "tt")
    expect(page.get_by_role("button", name="Чыгарга")).to_be_visible()
    subscriber.refresh_from_db()
    assert subscriber.language == "tt"

    # when: logging out and in again on a fresh browser (no language cookie, Russian Accept-Language)
    page.get_by_role("button", name="Чыгарга").click()
    fresh_context = browser.new_context(locale="ru-RU")
    try:
        fresh = fresh_context.new_page()
        fresh.goto(base + "/accounts/login/")
        expect(fresh.locator("html")).to_have_attribute("lang", "ru")
        _login(fresh, base)
        # then: the remembered language is applied at login, and survives a reload
        expect(fresh.get_by_role("heading", level=1)).to_have_text("Минем счётлар")
        fresh.reload()
        expect(fresh.get_by_role("heading", level=1)).to_have_text("Минем счётлар")
        expect(fresh.locator("footer")).to_contain_text("Кайнар линия, тәүлек әйләнәсе")

        # when: switching back to Russian (the button is labelled in Tatar now)
        _switch(fresh, "ru", "Алыштырырга")

        # then
        expect(fresh.get_by_role("heading", level=1)).to_have_text("Мои счета")
        expect(fresh.locator("html")).to_have_attribute("lang", "ru")
        subscriber.refresh_from_db()
        assert subscriber.language == "ru"
    finally:
        fresh_context.close()


def test_switcher_works_by_keyboard_on_a_small_screen(live_server, page: Page) -> None:
    # given: an anonymous visitor on a 360 px screen
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + "/accounts/login/")
    # when: Tab to the language list, pick the next language (Tatar) with the arrow key, Tab, Enter
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "lang-select":
            break
    assert page.evaluate("document.activeElement.id") == "lang-select"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Сменить"
    page.keyboard.press("Enter")
    # then: the same page, in Tatar, still fitting the screen
    expect(page).to_have_url(live_server.url + "/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "tt")
    expect(page.get_by_role("heading", level=1)).to_have_text("Шәхси кабинетка керү")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
