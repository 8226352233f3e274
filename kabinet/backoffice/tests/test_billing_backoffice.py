"""Back office, billing and catalog pages: staff-only, audited, bad input changes nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse
from django.utils import timezone

from kabinet.backoffice import urls as backoffice_urls
from kabinet.billing.models import BillingRun, LedgerAccount, LedgerTransfer, PersonalAccount, Subscription
from kabinet.billing.services import CLEARING_ACQUIRER, ledger_account_system, ledger_transfer_post
from kabinet.billing.tests.factories import (
    CustomerFactory,
    OptionFactory,
    PersonalAccountFactory,
    SubscriptionFactory,
    TariffFactory,
)
from kabinet.catalog.models import Bundle, PriceVersion, Tariff
from kabinet.core.models import AuditEvent
from kabinet.customers.models import Contract
from kabinet.identity.models import User

pytestmark = pytest.mark.django_db


def _staff(email: str = "operator@letai.example") -> User:
    user = User.objects.create_user(email=email, password="Kabinet2026x", is_staff=True)
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(_staff())
    return client


@pytest.fixture
def customer():
    customer = CustomerFactory(
        last_name="Сафина",
        first_name="Алсу",
        middle_name="Ринатовна",
        passport="9205 123456",
        address="Казань, ул. Баумана, 1",
        code_word="Ласточка",
    )
    Contract.objects.create(
        customer=customer, number="D-1001", signed_at=dt.date(2025, 3, 1), phone="+79171234567"
    )
    return customer


@pytest.fixture
def account(customer):
    account = PersonalAccountFactory(
        customer=customer,
        service_kind="internet",
        balance_kopecks=10000,
        address="Казань, ул. Баумана, 1, кв. 5",
    )
    return account


def _ledger_balance(account: PersonalAccount) -> int:
    return LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks


def _errors(response) -> list[str]:
    return re.findall(r'<ul class="errorlist"[^>]*><li>(.*?)</li>', response.content.decode())


def _page_urls(
    *, customer_id: int, account_id: int, tariff_id: int, option_id: int, bundle_id: int, contract_id: int
) -> list[str]:
    ids = {
        "contract_id": contract_id,
        "customer_id": customer_id,
        "account_id": account_id,
        "tariff_id": tariff_id,
        "option_id": option_id,
        "bundle_id": bundle_id,
    }
    urls = []
    for pattern in backoffice_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        callback_module = pattern.callback.__module__
        if not callback_module.endswith((".billing", ".catalog")):
            continue
        kwargs = {name: ids[name] for name in pattern.pattern.regex.groupindex}
        urls.append(reverse(f"backoffice:{pattern.name}", kwargs=kwargs))
    return urls


def test_subscriber_is_refused_on_every_billing_and_catalog_page_and_nothing_changes(customer, account):
    # given: a subscriber (the account's own owner) logged in
    owner = User.objects.create_user(email="alsu@example.ru", password="Kabinet2026x", customer=customer)
    tariff = TariffFactory(price_kopecks=41500)
    option = OptionFactory()
    bundle = Bundle.objects.create(code="b1", name="Пакет", discount_bp=1000)
    client = Client()
    client.force_login(owner)
    contract = customer.contracts.get()
    urls = _page_urls(
        customer_id=customer.pk,
        account_id=account.pk,
        tariff_id=tariff.pk,
        option_id=option.pk,
        bundle_id=bundle.pk,
        contract_id=contract.pk,
    )
    assert len(urls) == 26
    transfers_before = LedgerTransfer.objects.count()
    # when: every page is tried with GET and with a POST that would change something
    for url in urls:
        got = client.get(url)
        posted = client.post(
            url,
            {
                "adj-direction": "credit",
                "adj-amount": "1000",
                "adj-reason": "себе",
                "adj-token": "hack",
                "status-action": "terminate",
                "status-reason": "x",
                "flags-credit_limit": "100000",
                "flags-reason": "x",
                "price-price": "1",
                "price-effective_from": timezone.localdate().isoformat(),
                "st-reason": "x",
                "term-reason": "x",
                "name": "Взлом",
                "discount": "90",
            },
        )
        # then
        assert got.status_code == 403, url
        assert posted.status_code == 403, url
    account.refresh_from_db()
    assert _ledger_balance(account) == 10000
    assert LedgerTransfer.objects.count() == transfers_before
    assert (account.status, account.credit_limit_kopecks) == (PersonalAccount.Status.ACTIVE, 0)
    assert PriceVersion.objects.filter(tariff=tariff).count() == 1
    assert Tariff.objects.get(pk=tariff.pk).status == Tariff.Status.AVAILABLE
    assert Bundle.objects.get(pk=bundle.pk).discount_bp == 1000
    assert Contract.objects.get(pk=contract.pk).status == Contract.Status.ACTIVE
    assert AuditEvent.objects.count() == 0


def test_anonymous_is_sent_to_the_staff_login(account):
    response = Client().get(reverse("backoffice:account_detail", args=[account.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/backoffice/login/?next=")


def test_staff_adjusts_with_a_reason_and_the_transfer_and_audit_row_exist(staff_client, account):
    # given
    page = staff_client.get(reverse("backoffice:account_detail", args=[account.pk]))
    token = re.search(r'name="adj-token" value="([0-9a-f]{32})"', page.content.decode()).group(1)
    data = {
        "adj-direction": "credit",
        "adj-amount": "150,50",
        "adj-reason": "Компенсация за аварию 12 ноября",
        "adj-token": token,
    }
    # when
    response = staff_client.post(reverse("backoffice:account_adjust", args=[account.pk]), data)
    replay = staff_client.post(reverse("backoffice:account_adjust", args=[account.pk]), data)
    # then
    assert response.status_code == 302
    assert replay.status_code == 302
    transfer = LedgerTransfer.objects.get(key=f"adjustment:{token}")
    assert transfer.amount_kopecks == 15050
    assert transfer.credit_account_id == account.ledger_account_id
    assert transfer.description == "Зачисление оператором: Компенсация за аварию 12 ноября"
    assert _ledger_balance(account) == 25050
    event = AuditEvent.objects.get(action="ledger.adjustment")
    assert event.reason == "Компенсация за аварию 12 ноября"
    assert event.actor.email == "operator@letai.example"
    assert event.new["amount_kopecks"] == 15050
    # and the ledger page shows it with the running balance
    ledger = staff_client.get(reverse("backoffice:account_ledger", args=[account.pk])).content.decode()
    assert "Зачисление оператором: Компенсация за аварию 12 ноября" in ledger
    assert "+150,50\u00a0₽" in ledger
    assert "250,50\u00a0₽" in ledger


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"adj-direction": "credit", "adj-amount": "", "adj-reason": "Причина"}, ["Укажите сумму."]),
        (
            {"adj-direction": "debit", "adj-amount": "-5", "adj-reason": "Причина"},
            ["Сумма должна быть больше нуля."],
        ),
        (
            {"adj-direction": "credit", "adj-amount": "1e5", "adj-reason": "Причина"},
            ["Сумма указана неверно: введите число, например 157."],
        ),
        ({"adj-direction": "credit", "adj-amount": "100", "adj-reason": ""}, ["Укажите причину."]),
        ({"adj-amount": "100", "adj-reason": "Причина"}, ["Выберите: зачисление или списание."]),
    ],
)
def test_bad_adjustment_shows_a_russian_error_and_moves_nothing(staff_client, account, data, errors):
    # given
    transfers_before = LedgerTransfer.objects.count()
    # when
    response = staff_client.post(
        reverse("backoffice:account_adjust", args=[account.pk]), {**data, "adj-token": "t" * 32}
    )
    # then
    assert response.status_code == 400
    assert _errors(response) == errors
    assert 'aria-invalid="true"' in response.content.decode()
    assert LedgerTransfer.objects.count() == transfers_before
    assert _ledger_balance(account) == 10000
    assert not AuditEvent.objects.filter(action="ledger.adjustment").exists()


def test_staff_blocks_an_account_with_a_reason_and_it_is_audited(staff_client, account):
    # when
    response = staff_client.post(
        reverse("backoffice:account_status", args=[account.pk]),
        {"status-action": "block", "status-reason": "Запрос правоохранительных органов"},
    )
    # then
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.status == PersonalAccount.Status.BLOCKED_OPERATOR
    event = AuditEvent.objects.get(action="personal_account.status")
    assert (event.old, event.new, event.reason) == (
        {"status": "active"},
        {"status": "blocked_operator"},
        "Запрос правоохранительных органов",
    )


def test_impossible_status_change_shows_the_reason_and_changes_nothing(staff_client, account):
    response = staff_client.post(
        reverse("backoffice:account_status", args=[account.pk]),
        {"status-action": "unblock", "status-reason": "Просьба абонента"},
    )
    assert response.status_code == 400
    assert "Разблокировать можно только счёт, заблокированный оператором." in response.content.decode()
    account.refresh_from_db()
    assert account.status == PersonalAccount.Status.ACTIVE
    assert not AuditEvent.objects.filter(action="personal_account.status").exists()


def test_staff_changes_flags_with_a_reason(staff_client, account):
    # when
    response = staff_client.post(
        reverse("backoffice:account_flags", args=[account.pk]),
        {"flags-cash_payment_ban": "on", "flags-credit_limit": "300", "flags-reason": "Решение суда"},
    )
    # then
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.cash_payment_ban, account.credit_limit_kopecks) == (True, 30000)
    event = AuditEvent.objects.get(action="personal_account.flags")
    assert event.new == {"cash_payment_ban": True, "credit_limit_kopecks": 30000}
    assert event.reason == "Решение суда"


def test_bad_flags_show_a_russian_error_and_change_nothing(staff_client, account):
    response = staff_client.post(
        reverse("backoffice:account_flags", args=[account.pk]),
        {"flags-cash_payment_ban": "on", "flags-credit_limit": "много", "flags-reason": ""},
    )
    assert response.status_code == 400
    assert _errors(response) == ["Сумма указана неверно: введите число, например 157.", "Укажите причину."]
    account.refresh_from_db()
    assert (account.cash_payment_ban, account.credit_limit_kopecks) == (False, 0)


@pytest.mark.parametrize("query", ["Сафина", "сафина алсу", "D-1001", "8 917 123-45-67", "+7 (917) 1234567"])
def test_customer_search_by_name_contract_and_phone(staff_client, customer, account, query):
    # given another customer who must not be found
    CustomerFactory(last_name="Петров")
    # when
    response = staff_client.get(reverse("backoffice:customer_search"), {"q": query})
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("backoffice:customer_detail", args=[customer.pk]) in body
    assert "Петров" not in body
    assert AuditEvent.objects.get(action="personal_data.search").new == {"query": query, "found": 1}


def test_customer_search_by_account_number_and_inn(staff_client, account):
    # given
    org = CustomerFactory(kind="organization", organization_name="ООО Ромашка", inn="1655000000")
    # when
    by_number = staff_client.get(reverse("backoffice:customer_search"), {"q": account.number})
    by_inn = staff_client.get(reverse("backoffice:customer_search"), {"q": "1655000000"})
    # then
    assert reverse("backoffice:customer_detail", args=[account.customer_id]) in by_number.content.decode()
    assert "ООО Ромашка" in by_inn.content.decode()
    assert reverse("backoffice:customer_detail", args=[org.pk]) in by_inn.content.decode()


def test_customer_card_hides_passport_and_address_until_identity_is_verified(staff_client, customer, account):
    # when
    response = staff_client.get(reverse("backoffice:customer_detail", args=[customer.pk]))
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert "Сафина Алсу Ринатовна" in body
    assert "D-1001" in body
    assert account.number in body
    assert "9205 123456" not in body
    assert "Баумана" not in body
    assert "Ласточка" not in body
    event = AuditEvent.objects.get(action="personal_data.view")
    assert event.target_type == "customers.customer"
    assert event.target_id == str(customer.pk)
    assert event.actor_is_staff is True
    assert event.new == {"fields": ["name", "contracts", "accounts", "balances"], "via": "customer"}


def test_identity_verified_by_passport_opens_personal_data_and_is_audited(staff_client, customer, account):
    # when
    response = staff_client.post(
        reverse("backoffice:customer_identity_verify", args=[customer.pk]),
        {"identity-method": "passport", "identity-passport": "9205123456"},
    )
    card = staff_client.get(reverse("backoffice:customer_detail", args=[customer.pk]))
    # then
    assert response.status_code == 302
    body = card.content.decode()
    assert "9205 123456" in body
    assert "Казань, ул. Баумана, 1" in body
    assert "Ласточка" not in body
    verified = AuditEvent.objects.get(action="personal_data.identity_verified")
    assert verified.new == {"method": "passport"}
    assert verified.target_id == str(customer.pk)
    views = AuditEvent.objects.filter(action="personal_data.view").order_by("id")
    assert views.last().new["fields"] == [
        "name",
        "contracts",
        "accounts",
        "balances",
        "passport",
        "address",
        "account_addresses",
        "account_phones",
    ]


def test_identity_verified_by_code_word_and_a_recent_payment(staff_client, customer, account):
    # given a payment of 500 ₽ a week ago
    ledger_transfer_post(
        key="payment:bo-1",
        debit=ledger_account_system(code=CLEARING_ACQUIRER),
        credit=account.ledger_account,
        amount_kopecks=50000,
        kind=LedgerTransfer.Kind.PAYMENT,
        value_date=timezone.localdate() - dt.timedelta(days=7),
    )
    url = reverse("backoffice:customer_identity_verify", args=[customer.pk])
    # when: the right code word with a wrong amount, then with the right one
    wrong = staff_client.post(
        url,
        {
            "identity-method": "code_word_payment",
            "identity-code_word": "ласточка",
            "identity-payment_amount": "400",
        },
    )
    right = staff_client.post(
        url,
        {
            "identity-method": "code_word_payment",
            "identity-code_word": "ласточка",
            "identity-payment_amount": "500",
        },
    )
    # then
    assert wrong.status_code == 400
    assert "Данные не совпадают с карточкой абонента" in wrong.content.decode()
    assert "9205 123456" not in wrong.content.decode()
    assert right.status_code == 302
    assert AuditEvent.objects.filter(action="personal_data.identity_check_failed").count() == 1
    assert AuditEvent.objects.filter(action="personal_data.identity_verified").count() == 1


def test_wrong_passport_discloses_nothing_and_repeated_failures_lock_the_check(staff_client, customer):
    url = reverse("backoffice:customer_identity_verify", args=[customer.pk])
    for _ in range(5):
        response = staff_client.post(url, {"identity-method": "passport", "identity-passport": "0000 000000"})
        assert response.status_code == 400
        assert "9205 123456" not in response.content.decode()
    # the sixth try is refused even with the right passport
    response = staff_client.post(url, {"identity-method": "passport", "identity-passport": "9205 123456"})
    assert response.status_code == 400
    assert "Слишком много неудачных проверок" in response.content.decode()
    assert not AuditEvent.objects.filter(action="personal_data.identity_verified").exists()


def test_verification_of_one_staff_member_does_not_open_data_for_another(customer, account):
    # given
    first, second = Client(), Client()
    first.force_login(_staff("first@letai.example"))
    second.force_login(_staff("second@letai.example"))
    first.post(
        reverse("backoffice:customer_identity_verify", args=[customer.pk]),
        {"identity-method": "passport", "identity-passport": "9205 123456"},
    )
    # when
    body = second.get(reverse("backoffice:customer_detail", args=[customer.pk])).content.decode()
    # then
    assert "9205 123456" not in body


def test_account_page_is_audited_as_a_personal_data_view(staff_client, account):
    staff_client.get(reverse("backoffice:account_detail", args=[account.pk]))
    event = AuditEvent.objects.get(action="personal_data.view")
    assert event.new == {"fields": ["account", "balance", "transfers"], "via": "account"}
    assert event.target_id == str(account.customer_id)


def test_ledger_is_paginated_with_a_running_balance(staff_client, account):
    # given: 10 000 kopecks of funding, then 60 charges of 1 ₽ over 60 days
    revenue = ledger_account_system(code="revenue:internet")
    for day in range(60):
        ledger_transfer_post(
            key=f"charge:test:{day}",
            debit=account.ledger_account,
            credit=revenue,
            amount_kopecks=100,
            kind=LedgerTransfer.Kind.CHARGE,
            value_date=dt.date(2026, 2, 1) + dt.timedelta(days=day),
            description=f"Списание за день {day}",
        )
    url = reverse("backoffice:account_ledger", args=[account.pk])
    # when
    first = staff_client.get(url).content.decode()
    second = staff_client.get(url, {"page": 2}).content.decode()
    # then: 61 rows, 50 on the first page; the newest row shows the current balance (40 ₽)
    balances_first = re.findall(r'<td class="num">([^<]*)</td>\s*<td>', first)
    assert balances_first[0] == "40\u00a0₽"
    assert balances_first[49] == "89\u00a0₽"
    balances_second = re.findall(r'<td class="num">([^<]*)</td>\s*<td>', second)
    assert balances_second[0] == "90\u00a0₽"
    assert balances_second[-1] == "100\u00a0₽"
    assert len(balances_second) == 11
    assert "Страница 2 из 2" in second


def test_billing_run_history_lists_runs_with_counts_and_errors(staff_client):
    BillingRun.objects.create(
        run_date=dt.date(2026, 11, 1),
        status=BillingRun.Status.FAILED,
        accounts_count=1200,
        charges_count=1500,
        total_kopecks=12345600,
        blocked_count=7,
        errors=["chunk 3: deadlock detected"],
    )
    body = staff_client.get(reverse("backoffice:billing_runs")).content.decode()
    assert "01.11.2026" in body
    assert "1200" in body and "1500" in body
    assert "123\u202f456\u00a0₽" in body
    assert "chunk 3: deadlock detected" in body
    assert "Ошибка" in body


def test_staff_adds_a_future_tariff_price_version(staff_client):
    # given
    tariff = TariffFactory(price_kopecks=41500, price_from=dt.date(2020, 1, 1))
    effective = timezone.localdate() + dt.timedelta(days=10)
    # when
    response = staff_client.post(
        reverse("backoffice:tariff_price", args=[tariff.pk]),
        {"price-price": "450", "price-effective_from": effective.isoformat()},
    )
    # then
    assert response.status_code == 302
    assert list(
        PriceVersion.objects.filter(tariff=tariff).values_list("price_kopecks", "effective_from")
    ) == [
        (45000, effective),
        (41500, dt.date(2020, 1, 1)),
    ]
    assert AuditEvent.objects.get(action="catalog.price_change").new == {
        "price_kopecks": 45000,
        "effective_from": effective.isoformat(),
    }


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"price-price": "450", "price-effective_from": "2020-01-01"},
            "Новая цена не может действовать с прошедшей даты",
        ),
        ({"price-price": "", "price-effective_from": "2030-01-01"}, "Укажите цену."),
        ({"price-price": "450", "price-effective_from": "завтра"}, "Дата указана неверно: ДД.ММ.ГГГГ."),
    ],
)
def test_bad_price_version_is_refused_in_russian(staff_client, data, error):
    tariff = TariffFactory(price_kopecks=41500)
    response = staff_client.post(reverse("backoffice:tariff_price", args=[tariff.pk]), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert PriceVersion.objects.filter(tariff=tariff).count() == 1


def test_staff_creates_and_edits_a_tariff(staff_client):
    # when
    response = staff_client.post(
        reverse("backoffice:tariff_create"),
        {
            "code": "home-200",
            "name": "Домашний 200",
            "service_kind": "internet",
            "period": "month",
            "price": "550",
            "effective_from": timezone.localdate().isoformat(),
            "description": "",
            "params": '{"speed_mbps": 200}',
            "voluntary_block_fee": "0",
        },
    )
    # then
    tariff = Tariff.objects.get(code="home-200")
    assert response.status_code == 302
    assert tariff.params == {"speed_mbps": 200}
    assert tariff.price_on(timezone.localdate()) == 55000
    # when
    edit = staff_client.post(
        reverse("backoffice:tariff_edit", args=[tariff.pk]),
        {
            "edit-name": "Домашний 200+",
            "edit-description": "Быстрый",
            "edit-params": '{"speed_mbps": 200}',
            "edit-voluntary_block_fee": "0",
        },
    )
    # then
    assert edit.status_code == 302
    tariff.refresh_from_db()
    assert (tariff.name, tariff.description) == ("Домашний 200+", "Быстрый")
    update = AuditEvent.objects.get(action="catalog.tariff_update")
    assert update.new == {"name": "Домашний 200+", "description": "Быстрый"}


def test_bad_tariff_is_refused_in_russian_and_nothing_is_created(staff_client):
    response = staff_client.post(
        reverse("backoffice:tariff_create"),
        {
            "code": "плохой код",
            "name": "",
            "service_kind": "internet",
            "period": "month",
            "price": "abc",
            "effective_from": timezone.localdate().isoformat(),
            "params": "[1, 2]",
            "voluntary_block_fee": "0",
        },
    )
    assert response.status_code == 400
    assert _errors(response) == [
        "Код: только латинские буквы, цифры, дефис и _.",
        "Обязательное поле.",
        "Сумма указана неверно: введите число, например 157.",
        "Параметры: нужен JSON-объект, например {&quot;speed_mbps&quot;: 100}.",
    ]
    assert not Tariff.objects.exists()


def test_catalog_lists_render_for_staff(staff_client):
    tariff = TariffFactory(name="Домашний 100", price_kopecks=41500)
    OptionFactory(name="Статический IP", price_kopecks=15000)
    tv = TariffFactory(name="ТВ Базовый", service_kind="tv", price_kopecks=11900)
    staff_client.post(
        reverse("backoffice:bundle_create"),
        {"code": "combo", "name": "Интернет + ТВ", "tariffs": [tariff.pk, tv.pk], "discount": "10"},
    )
    assert Bundle.objects.get(code="combo").discount_bp == 1000
    for name, text in (
        ("tariff_list", "Домашний 100"),
        ("option_list", "Статический IP"),
        ("bundle_list", "Интернет + ТВ"),
    ):
        response = staff_client.get(reverse(f"backoffice:{name}"))
        assert response.status_code == 200
        assert text in response.content.decode()


def test_staff_edits_an_option_text_and_bad_params_change_nothing(staff_client):
    # given
    option = OptionFactory(name="Статический IP", price_kopecks=15000)
    url = reverse("backoffice:option_edit", args=[option.pk])
    # when
    bad = staff_client.post(url, {"edit-name": "Новое имя", "edit-params": "{oops"})
    good = staff_client.post(url, {"edit-name": "Белый IP", "edit-description": "Постоянный адрес"})
    # then
    assert bad.status_code == 400
    assert "Параметры: нужен JSON-объект" in bad.content.decode()
    assert good.status_code == 302
    option.refresh_from_db()
    assert (option.name, option.description) == ("Белый IP", "Постоянный адрес")
    event = AuditEvent.objects.get(action="catalog.option_update")
    assert event.old == {"name": "Статический IP", "description": ""}
    assert event.new == {"name": "Белый IP", "description": "Постоянный адрес"}


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_pages_do_a_constant_number_of_queries(staff_client, customer, account):
    # given one of everything, measured
    TariffFactory()
    OptionFactory()
    card = reverse("backoffice:customer_detail", args=[customer.pk])
    urls = [card, reverse("backoffice:tariff_list"), reverse("backoffice:option_list")]
    staff_client.get(card)  # warm up the session bookkeeping
    before = [_queries(staff_client, url) for url in urls]
    # when there are five of everything
    for kind in ("tv", "mobile", "landline", "wifi"):
        PersonalAccountFactory(customer=customer, service_kind=kind, balance_kopecks=100)
        TariffFactory(service_kind=kind)
        OptionFactory(service_kind=kind)
    # then
    assert [_queries(staff_client, url) for url in urls] == before


def test_ledger_page_queries_do_not_grow_with_the_page(staff_client, account):
    url = reverse("backoffice:account_ledger", args=[account.pk])
    staff_client.get(url)
    one_row = _queries(staff_client, url)
    revenue = ledger_account_system(code="revenue:internet")
    for day in range(30):
        ledger_transfer_post(
            key=f"charge:q:{day}",
            debit=account.ledger_account,
            credit=revenue,
            amount_kopecks=100,
            kind=LedgerTransfer.Kind.CHARGE,
            value_date=dt.date(2026, 3, 1) + dt.timedelta(days=day),
        )
    assert _queries(staff_client, url) == one_row


def test_staff_terminates_a_contract_and_its_accounts_are_closed(staff_client, customer):
    # given: an account under the contract and one without a contract
    contract = customer.contracts.get()
    under = PersonalAccountFactory(customer=customer, contract=contract)
    SubscriptionFactory(personal_account=under)
    other = PersonalAccountFactory(customer=customer)
    url = reverse("backoffice:contract_terminate", args=[contract.pk])
    # when: first without a reason, then with one
    refused = staff_client.post(url, {"term-reason": "  "})
    done = staff_client.post(url, {"term-reason": "Заявление абонента"})
    # then
    assert refused.status_code == 400
    assert _errors(refused) == ["Укажите причину."]
    assert done.status_code == 302
    contract.refresh_from_db()
    under.refresh_from_db()
    other.refresh_from_db()
    assert (contract.status, contract.termination_reason) == (
        Contract.Status.TERMINATED,
        "Заявление абонента",
    )
    assert (under.status, under.status_reason) == (PersonalAccount.Status.TERMINATED, "Заявление абонента")
    assert other.status == PersonalAccount.Status.ACTIVE
    assert under.subscriptions.get().status == Subscription.Status.ENDED
    assert AuditEvent.objects.filter(action="contract.terminate").count() == 1
    assert AuditEvent.objects.get(action="personal_account.status").new == {"status": "terminated"}
