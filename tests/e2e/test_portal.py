"""Browser journey of the self-care portal on the demo data: log in -> the dashboard shows the demo
accounts and balances -> change the internet tariff from the next period with consent -> cancel it ->
switch a TV package on -> see the charge reason in the history. Once more at 360 px wide."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from kabinet.billing.models import PersonalAccount
from kabinet.core.money import format_kopecks
from kabinet.demo.identity import DEMO_PASSWORD
from kabinet.demo.loaders import LOADERS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo() -> dict[str, PersonalAccount]:
    for loader in LOADERS:
        loader()
    accounts = PersonalAccount.objects.filter(links__user__phone="+79170000001").select_related(
        "ledger_account"
    )
    return {a.service_kind: a for a in accounts}


def _login(page: Page, base: str) -> None:
    page.goto(base + "/accounts/login/")
    page.locator("input[name=login]").fill("8 917 000-00-01")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    expect(page.get_by_role("heading", level=1, name="Мои счета")).to_be_visible()


def _journey(page: Page, base: str, demo: dict[str, PersonalAccount]) -> None:
    # log in -> the dashboard shows every demo account with its balance
    _login(page, base)
    assert set(demo) == {"internet", "tv", "mobile"}
    for account in demo.values():
        card = page.locator(f"li.account-card[data-account='{account.number}']")
        expect(card).to_contain_text(format_kopecks(account.ledger_account.balance_kopecks))
        expect(card).to_contain_text("Хватит до")

    # change the internet tariff from the next period, with consent
    internet = demo["internet"]
    page.locator(f"li.account-card[data-account='{internet.number}'] h2 a").click()
    expect(page.get_by_role("heading", name="Услуги СПД")).to_be_visible()
    page.get_by_text("Сменить тариф", exact=True).click()
    page.get_by_label(re.compile("«Домашний 300»")).check()
    page.get_by_label("Со следующего периода").check()
    page.get_by_role("button", name="Рассчитать стоимость").click()
    expect(page.locator(".quote-explanation")).to_contain_text("тариф сменится на «Домашний 300»")
    page.get_by_role("button", name="Подтвердить смену тарифа").click()
    expect(page.locator(".errorlist")).to_contain_text("Подтвердите согласие")  # consent is required
    page.locator("#id_consent").check()
    page.get_by_role("button", name="Подтвердить смену тарифа").click()
    expect(page.locator(".messages")).to_contain_text("Смена тарифа на «Домашний 300» запланирована")
    expect(page.locator(".scheduled-change")).to_contain_text("Запланирована смена тарифа на «Домашний 300»")

    # cancel it
    page.get_by_role("button", name="Отменить смену тарифа").click()
    expect(page.locator(".messages")).to_contain_text("Запланированная смена тарифа отменена.")
    expect(page.locator(".scheduled-change")).to_have_count(0)

    # switch a TV package on (htmx swaps the option in place)
    tv = demo["tv"]
    page.goto(f"{base}/cabinet/accounts/{tv.pk}/")
    option = page.locator("li.option", has_text="Детский")
    option.get_by_role("checkbox").check()
    option.get_by_role("button", name=re.compile("Подключить")).click()
    expect(page.locator("li.option", has_text="Детский")).to_contain_text("подключено")
    # htmx swapped the option in place: no navigation to the plain-POST redirect target
    expect(page).to_have_url(f"{base}/cabinet/accounts/{tv.pk}/")

    # the charge reason is in the history
    page.get_by_role("link", name="История", exact=True).click()
    expect(page.get_by_role("heading", name="История начислений и платежей")).to_be_visible()
    expect(page.locator("table.history-table")).to_contain_text("Детский")
    expect(page.locator("svg.spending-chart")).to_be_visible()


def test_portal_journey(live_server, page: Page, demo) -> None:  # type: ignore[no-untyped-def]
    _journey(page, live_server.url, demo)


def test_portal_journey_at_360px(live_server, page: Page, demo) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 360, "height": 740})
    _journey(page, live_server.url, demo)
    for path in ("/cabinet/", f"/cabinet/accounts/{demo['internet'].pk}/"):
        page.goto(live_server.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 360, f"{path} is {overflow}px wide at 360px"


def test_portal_pages_have_no_axe_violations(live_server, page: Page, demo) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    # given
    axe = Axe()
    _login(page, live_server.url)
    paths = [
        "/cabinet/",
        f"/cabinet/accounts/{demo['internet'].pk}/",
        f"/cabinet/accounts/{demo['tv'].pk}/?tab=tv",
        f"/cabinet/accounts/{demo['mobile'].pk}/",
        f"/cabinet/accounts/{demo['tv'].pk}/history/",
        f"/cabinet/accounts/{demo['internet'].pk}/block/",
        f"/cabinet/accounts/{demo['internet'].pk}/promised-payment/",
        f"/cabinet/accounts/{demo['internet'].pk}/consents/",
        "/cabinet/attach/",
    ]
    for path in paths:
        # when
        page.goto(live_server.url + path)
        result = axe.run(
            page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
        )
        # then
        violations = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result.response["violations"]]
        assert violations == [], f"{path}: {violations}"
