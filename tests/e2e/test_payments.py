"""Browser journey: pay by personal account number on the public page through the sandbox acquirer
(card, then the bank's SMS code read from the dev outbox), follow the status page to «credited», see the
balance change in the cabinet, download the receipt."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kabinet.billing.models import LedgerAccount
from kabinet.billing.services import personal_account_open
from kabinet.identity.tests.security_helpers import PASSWORD, make_subscriber
from kabinet.notifications.models import OutboxMessage
from kabinet.payments.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)


def _sms_code() -> str:
    message = OutboxMessage.objects.filter(channel="sms", to="+79000000000").order_by("-id").first()
    assert message is not None
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None
    return match.group(1)


def test_public_card_payment_through_the_sandbox(live_server, page: Page, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # given: a subscriber's internet account with 10 ₽ on it, the sandbox acquirer on this server
    settings.SITE_URL = live_server.url
    settings.ACQUIRER_BASE_URL = f"{live_server.url}/sandbox-acquirer/api/v3"
    settings.SANDBOX_ACQUIRER_NOTIFICATION_URL = f"{live_server.url}/payments/notifications/yookassa/"
    user = make_subscriber(email="ivan@example.ru")
    account = personal_account_open(customer=user.customer, service_kind="internet")  # type: ignore[arg-type]
    # when: someone pays 157 ₽ by the account number, without logging in
    page.goto(f"{live_server.url}/pay/")
    expect(page.get_by_role("heading", name="Правила оплаты картой")).to_be_visible()
    page.get_by_label("Номер лицевого счёта").fill(account.number)
    page.get_by_label("Сумма, ₽").fill("157")
    page.get_by_label("Электронная почта для квитанции").fill("payer@example.ru")
    page.get_by_label("Я согласен с").check()
    page.get_by_role("button", name="Продолжить").click()
    # the acquirer's card page
    expect(page.get_by_role("heading", name="Оплата картой")).to_be_visible()
    page.get_by_label("Номер карты").fill("2200 0000 0000 0004")
    page.get_by_label("Срок действия (ММ/ГГ)").fill("12/30")
    page.get_by_label("CVC/CVV").fill("123")
    page.get_by_label("Имя владельца (как на карте)").fill("IVAN IVANOV")
    page.get_by_role("button", name="Оплатить 157 ₽").click()
    # the bank's 3-D Secure step: the code arrives by SMS
    expect(page.get_by_role("heading", name="Подтверждение платежа")).to_be_visible()
    page.get_by_label("Код из SMS (6 цифр)").fill(_sms_code())
    page.get_by_role("button", name="Подтвердить").click()
    # then: back on our status page, the steps reach «credited»
    payment = Payment.objects.get()
    expect(page).to_have_url(f"{live_server.url}/pay/status/{payment.public_id}/")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "succeeded", timeout=15000)
    expect(page.locator("[data-step=credited] time")).to_be_visible()
    expect(page.locator("[data-step=paid] time")).to_be_visible()
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == 15700
    # and the receipt downloads as a PDF
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Скачать квитанцию (PDF)").click()
    target = tmp_path / "receipt.pdf"
    download_info.value.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    assert account.number in download_info.value.suggested_filename
    # and the subscriber sees the new balance in the cabinet
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=login]").fill("ivan@example.ru")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.goto(f"{live_server.url}/cabinet/")
    card = page.locator(f"[data-account='{account.number}']")
    expect(card.locator(".balance")).to_contain_text("157\u00a0₽")
    page.goto(f"{live_server.url}/cabinet/payments/")
    expect(page.locator("table")).to_contain_text("Зачислен")


WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _axe_violations(page: Page) -> list[tuple[str, str]]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    )
    return [(v["id"], str([n["target"] for n in v["nodes"]][:3])) for v in results.response["violations"]]


def test_payment_pages_are_accessible_at_360px(live_server, page: Page, settings) -> None:  # type: ignore[no-untyped-def]
    # given
    settings.SITE_URL = live_server.url
    settings.ACQUIRER_BASE_URL = f"{live_server.url}/sandbox-acquirer/api/v3"
    settings.SANDBOX_ACQUIRER_NOTIFICATIONS = "drop"
    user = make_subscriber(email="axe-pay@example.ru")
    account = personal_account_open(customer=user.customer, service_kind="internet")  # type: ignore[arg-type]
    page.set_viewport_size({"width": 360, "height": 800})
    found: dict[str, list[tuple[str, str]]] = {}

    def check(name: str) -> None:
        found[name] = _axe_violations(page)
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
        assert overflow is False, f"{name} scrolls horizontally at 360 px"

    # the public page with every field in error
    page.goto(f"{live_server.url}/pay/")
    page.get_by_label("Номер лицевого счёта").fill("1234567891")
    page.get_by_label("Сумма, ₽").fill("157.50")
    page.get_by_role("button", name="Продолжить").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    check("pay with errors")
    page.goto(f"{live_server.url}/terms/")
    check("terms")
    # the acquirer's pages
    page.goto(f"{live_server.url}/pay/")
    page.get_by_label("Номер лицевого счёта").fill(account.number)
    page.get_by_label("Сумма, ₽").fill("100")
    page.get_by_label("Электронная почта для квитанции").fill("a@b.ru")
    page.get_by_label("Я согласен с").check()
    page.get_by_role("button", name="Продолжить").click()
    expect(page.get_by_role("heading", name="Оплата картой")).to_be_visible()
    check("sandbox card page")
    page.get_by_label("Номер карты").fill("2200 0000 0000 0004")
    page.get_by_label("Срок действия (ММ/ГГ)").fill("12/30")
    page.get_by_label("CVC/CVV").fill("123")
    page.get_by_role("button", name="Оплатить 100 ₽").click()
    expect(page.get_by_role("heading", name="Подтверждение платежа")).to_be_visible()
    check("sandbox 3-D Secure page")
    page.get_by_label("Код из SMS (6 цифр)").fill(_sms_code())
    page.get_by_role("button", name="Подтвердить").click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "succeeded", timeout=15000)
    check("status page")
    # the cabinet pages
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=login]").fill("axe-pay@example.ru")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.goto(f"{live_server.url}/cabinet/payments/new/")
    check("cabinet payment")
    page.goto(f"{live_server.url}/cabinet/payments/")
    check("payment history")
    # then
    assert {name: v for name, v in found.items() if v} == {}
