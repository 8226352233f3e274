"""Browser: axe-core (axe-playwright-python) finds no WCAG 2.1 A/AA violations on the main pages, and
every page fits a 360 px screen without horizontal scrolling; checked at 360 px and at 1280 px."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from kabinet.billing.models import PersonalAccount
from kabinet.billing.tests.factories import (
    CustomerFactory,
    OptionFactory,
    PersonalAccountFactory,
    SubscriptionFactory,
    SubscriptionOptionFactory,
    TariffFactory,
    personal_account_fund,
)
from kabinet.identity.models import User

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "axe@example.ru"
PASSWORD = "Secret-pass-2026"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = [360, 1280]
AXE = Axe()

PUBLIC_PAGES = {
    "home": "/",
    "login": "/accounts/login/",
    "registration": "/accounts/signup/",
    "card payment": "/pay/",
}


@pytest.fixture
def subscriber() -> tuple[User, PersonalAccount]:
    customer = CustomerFactory()
    user = User.objects.create_user(email=EMAIL, password=PASSWORD, customer=customer, email_verified=True)
    internet = PersonalAccountFactory(customer=customer, service_kind="internet", balance_kopecks=120000)
    home100 = TariffFactory(code="home-100", name="Домашний 100", period="month", price_kopecks=41500)
    home300 = TariffFactory(code="home-300", name="Домашний 300", period="month", price_kopecks=59000)
    home100.switchable_to.add(home300)
    static_ip = OptionFactory(
        code="static-ip", name="Статический IP", service_kind="internet", price_kopecks=15000
    )
    OptionFactory(code="boost", name="Ускорение", service_kind="internet", price_kopecks=9900)
    subscription = SubscriptionFactory(
        personal_account=internet, tariff=home100, started_on=dt.date(2026, 10, 1)
    )
    SubscriptionOptionFactory(subscription=subscription, option=static_ip)
    tv = PersonalAccountFactory(customer=customer, service_kind="tv", balance_kopecks=-5000)
    tv_tariff = TariffFactory(code="tv-base", name="Базовый ТВ", service_kind="tv", price_kopecks=11900)
    OptionFactory(code="kino", name="Кино", service_kind="tv", kind="tv_package", price_kopecks=19900)
    SubscriptionFactory(personal_account=tv, tariff=tv_tariff, started_on=dt.date(2026, 10, 1))
    personal_account_fund(personal_account=internet, amount_kopecks=-41500, value_date=dt.date(2026, 11, 1))
    return user, internet


def _violations(page: Page) -> list[dict[str, Any]]:
    results = AXE.run(
        page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results.response["violations"]
    ]


def _check(page: Page, url: str, width: int) -> dict[str, Any]:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    return {"url": url, "width": width, "violations": _violations(page), "fits": scroll_width <= width}


def _login(page: Page, base: str) -> None:
    page.goto(base + "/accounts/login/")
    page.locator("input[name=login]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(base + "/cabinet/")


@pytest.mark.parametrize("width", WIDTHS)
def test_public_pages_have_no_wcag_violations_and_fit_the_screen(live_server, page: Page, width: int) -> None:
    # given
    page.set_viewport_size({"width": width, "height": 800})
    # when
    reports = [_check(page, live_server.url + path, width) for path in PUBLIC_PAGES.values()]
    # then
    assert [r for r in reports if r["violations"]] == []
    assert [r["url"] for r in reports if not r["fits"]] == []


@pytest.mark.parametrize(("language", "width"), [("ru", 360), ("ru", 1280), ("tt", 360), ("en", 360)])
def test_cabinet_pages_have_no_wcag_violations_and_fit_the_screen(
    live_server, page: Page, language: str, width: int, subscriber: tuple[User, PersonalAccount]
) -> None:
    # given: Tatar and English strings are longer than Russian ones; they must fit 360 px too
    user, account = subscriber
    User.objects.filter(pk=user.pk).update(language=language)
    page.set_viewport_size({"width": width, "height": 800})
    _login(page, live_server.url)
    assert page.locator("html").get_attribute("lang") == language
    paths = {
        "dashboard": "/cabinet/",
        "services": f"/cabinet/accounts/{account.pk}/",
        "history": f"/cabinet/accounts/{account.pk}/history/",
        "profile": "/profile/",
        "consents": f"/cabinet/accounts/{account.pk}/consents/",
        "voluntary block": f"/cabinet/accounts/{account.pk}/block/",
        "promised payment": f"/cabinet/accounts/{account.pk}/promised-payment/",
        "attach": "/cabinet/attach/",
        "bonus": "/bonus/",
        "news": "/news/",
    }
    # when
    reports = [_check(page, live_server.url + path, width) for path in paths.values()]
    # then
    assert [r for r in reports if r["violations"]] == []
    assert [r["url"] for r in reports if not r["fits"]] == []


def test_the_checker_reports_a_known_violation(page: Page) -> None:
    # given: an image without a text alternative and a field without a label
    page.set_content('<html lang="ru"><body><main><img src="x.png"><input type="text"></main></body></html>')
    # when
    found = {violation["id"] for violation in _violations(page)}
    # then
    assert {"image-alt", "label"} <= found
