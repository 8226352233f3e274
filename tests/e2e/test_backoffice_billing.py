"""Browser journey: an operator logs in with a TOTP code, finds a customer, verifies the caller's
identity, credits the personal account with a reason; the subscriber sees it in the history."""

from __future__ import annotations

import datetime as dt

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect

from kabinet.billing.models import LedgerAccount, LedgerTransfer
from kabinet.billing.tests.factories import CustomerFactory, PersonalAccountFactory
from kabinet.core.models import AuditEvent
from kabinet.customers.models import Contract
from kabinet.identity.tests.security_helpers import PASSWORD, make_subscriber, totp_code

pytestmark = pytest.mark.django_db(transaction=True)


def test_operator_credits_an_account_and_the_subscriber_sees_it(live_server, page, browser):
    # given a customer with a personal account and a cabinet, and an operator with TOTP
    customer = CustomerFactory(
        last_name="Сафина", first_name="Алсу", passport="9205 123456", address="Казань, ул. Баумана, 1"
    )
    Contract.objects.create(customer=customer, number="D-2001", signed_at=dt.date(2025, 3, 1))
    make_subscriber(email="alsu@example.ru", customer=customer)
    account = PersonalAccountFactory(customer=customer, service_kind="internet", balance_kopecks=10000)
    staff = make_subscriber(email="op@letai.example", is_staff=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    base = live_server.url
    # when the operator logs in with the password and the code
    page.goto(base + "/backoffice/login/")
    page.get_by_label("Электронная почта или телефон").fill("op@letai.example")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("input[name=code]").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Бэк-офис")
    # finds the customer by name and opens the card
    page.get_by_role("link", name="Клиенты и счета").click()
    page.get_by_label("ФИО, название, ИНН, номер лицевого счёта или договора, телефон").fill("сафина")
    page.get_by_role("button", name="Найти").click()
    page.get_by_role("link", name="Сафина Алсу").click()
    expect(page.locator("body")).not_to_contain_text("9205 123456")
    # verifies the caller by the passport they name
    page.get_by_label("Назвал серию и номер паспорта").check()
    page.get_by_label("Серия и номер паспорта со слов абонента").fill("9205 123456")
    page.get_by_role("button", name="Проверить личность").click()
    expect(page.locator("body")).to_contain_text("Казань, ул. Баумана, 1")
    # and credits the account with a reason; a mistake first
    page.get_by_role("link", name=account.number).click()
    page.get_by_label("Зачислить на лицевой счёт").check()
    page.get_by_label("Сумма, ₽").fill("сто")
    page.get_by_label("Причина (её увидит абонент в истории)").fill("Компенсация за аварию 12 ноября")
    page.get_by_role("button", name="Провести корректировку").click()
    expect(page.get_by_label("Сумма, ₽")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("body")).to_contain_text("Сумма указана неверно")
    assert not LedgerTransfer.objects.filter(kind="adjustment", actor=staff).exists()
    page.get_by_label("Сумма, ₽").fill("150")
    page.get_by_role("button", name="Провести корректировку").click()
    expect(page.locator("body")).to_contain_text("Корректировка проведена.")
    expect(page.locator("#balance")).to_have_text("250\u00a0₽")
    # then the subscriber sees it in the history of the account, with the reason
    subscriber = browser.new_context(locale="ru-RU").new_page()
    subscriber.goto(base + "/accounts/login/")
    subscriber.locator("input[name=login]").fill("alsu@example.ru")
    subscriber.locator("input[name=password]").fill(PASSWORD)
    subscriber.locator("form[action='/accounts/login/'] button[type=submit]").click()
    subscriber.goto(f"{base}/cabinet/accounts/{account.pk}/history/")
    expect(subscriber.locator("body")).to_contain_text(
        "Зачисление оператором: Компенсация за аварию 12 ноября"
    )
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == 25000
    assert AuditEvent.objects.filter(action="ledger.adjustment", actor=staff).count() == 1
    assert AuditEvent.objects.filter(action="personal_data.identity_verified", actor=staff).count() == 1
