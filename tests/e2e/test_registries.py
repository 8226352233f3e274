"""Browser journey: an operator uploads a bank registry (Windows-1251), sees the summary, resolves the
line that went to review; the subscriber sees the «Летай Бонус» points the payment earned."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect

from kabinet.billing.models import LedgerAccount
from kabinet.billing.tests.factories import CustomerFactory, PersonalAccountFactory
from kabinet.core.models import AuditEvent
from kabinet.identity.tests.security_helpers import PASSWORD, make_subscriber, totp_code
from kabinet.payments.models import RegistryImport

pytestmark = pytest.mark.django_db(transaction=True)


def test_operator_imports_registry_and_resolves_review_line(live_server, page, browser, tmp_path):
    # given a subscriber with an internet account, and an operator with TOTP
    customer = CustomerFactory(last_name="Галиев", first_name="Рустам")
    make_subscriber(email="rustam@example.ru", customer=customer)
    account = PersonalAccountFactory(customer=customer, service_kind="internet")
    staff = make_subscriber(email="cashier@letai.example", is_staff=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    registry = tmp_path / "sber-25-11.csv"
    registry.write_bytes(
        (
            "банк;дата;номер операции;лицевой счёт;сумма;плательщик\r\n"
            f"Сбербанк;25.11.2026;E2E-1;{account.number};500;Галиев Р.\r\n"
            "Сбербанк;25.11.2026;E2E-2;1000000008;250;Галиев Р.\r\n"
        ).encode("cp1251")
    )
    base = live_server.url
    # when the operator logs in and uploads the file
    page.goto(base + "/backoffice/login/")
    page.get_by_label("Электронная почта или телефон").fill("cashier@letai.example")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("input[name=code]").press("Enter")
    page.get_by_role("link", name="Платежи").first.click()
    page.get_by_role("link", name="Реестры банков").click()
    page.get_by_label("Файл реестра (CSV)").set_input_files(str(registry))
    page.get_by_role("button", name="Загрузить").click()
    # then the file is accepted and imported in the background (eager here); the registry page shows
    # it done, one line credited and one for review, with its reason
    expect(page.locator("body")).to_contain_text("принят и загружается; итог появится на этой странице")
    expect(page.locator("body")).to_contain_text("Загружен")
    expect(page.locator("body")).to_contain_text("Лицевой счёт 1000000008 не найден.")
    imported = RegistryImport.objects.get(file_name="sber-25-11.csv")
    assert (imported.status, imported.lines_total, imported.credited_count, imported.review_count) == (
        RegistryImport.Status.DONE,
        2,
        1,
        1,
    )
    # when the operator resolves the line to the right account
    page.get_by_role("link", name="На проверке").click()
    page.get_by_label("Верный лицевой счёт").fill(account.number)
    page.get_by_label("Комментарий").fill("Плательщик ошибся в номере")
    page.get_by_role("button", name="Зачислить 250").click()
    expect(page.locator("body")).to_contain_text(f"зачислена на лицевой счёт {account.number}")
    expect(page.locator("body")).to_contain_text("Все строки реестров разобраны.")
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == 75000
    assert AuditEvent.objects.filter(action="payments.registry_line_resolve", actor=staff).count() == 1
    # and the subscriber sees the points both payments earned
    subscriber = browser.new_context(locale="ru-RU").new_page()
    subscriber.goto(base + "/accounts/login/")
    subscriber.locator("input[name=login]").fill("rustam@example.ru")
    subscriber.locator("input[name=password]").fill(PASSWORD)
    subscriber.locator("form[action='/accounts/login/'] button[type=submit]").click()
    subscriber.goto(base + "/bonus/")
    expect(subscriber.locator("[data-bonus-points]").first).to_have_text("750")
