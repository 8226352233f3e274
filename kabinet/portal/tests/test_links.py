"""Attaching and detaching personal accounts (kabinet.billing.services_links) through the pages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse

from kabinet.billing import services_links
from kabinet.billing.models import PersonalAccount, PersonalAccountLink
from kabinet.billing.tests.factories import PersonalAccountFactory
from kabinet.core.exceptions import DomainError
from kabinet.customers.models import Contract
from kabinet.notifications.models import OutboxMessage
from kabinet.portal.tests.conftest import form_token_for, logged_in, make_subscriber, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def stranger_account(other) -> Any:
    """An account of another customer with a contract whose phone is +79170000001."""
    contract = Contract.objects.create(
        customer=other.customer, number="Д-2026-17", signed_at=dt.date(2025, 1, 1), phone="+79170000001"
    )
    account = PersonalAccountFactory(customer=other.customer, contract=contract, service_kind="internet")
    pay(account, 30000, dt.date(2026, 10, 1))
    pay(account, 41550, dt.date(2026, 11, 3))
    return account


def _last_code() -> str:
    message = OutboxMessage.objects.filter(channel="sms").order_by("-id").first()
    assert message is not None
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None
    return match.group(1)


def test_attach_by_sms_code_sent_to_the_contract_phone(owner, stranger_account):
    # given
    client = logged_in(owner)
    # when
    response = client.post(reverse("portal:attach"), {"number": stranger_account.number, "method": "sms"})
    code = _last_code()
    confirm = client.post(reverse("portal:attach_confirm"), {"number": stranger_account.number, "code": code})
    # then
    assert response.status_code == 200
    sms = OutboxMessage.objects.get(channel="sms")
    assert sms.to == "+79170000001"
    assert stranger_account.number in sms.body
    assert confirm.status_code == 302
    assert confirm["Location"] == reverse("portal:account", args=[stranger_account.pk])
    link = PersonalAccountLink.objects.get(user=owner, personal_account=stranger_account)
    assert link.method == PersonalAccountLink.Method.SMS_CODE


def test_a_wrong_code_attaches_nothing_and_five_wrong_codes_drop_the_challenge(owner, stranger_account):
    # given
    services_links.personal_account_attach_request_code(user=owner, number=stranger_account.number)
    code = _last_code()
    wrong = "000000" if code != "000000" else "111111"
    # when
    errors = []
    for _i in range(5):
        with pytest.raises(DomainError) as exc:
            services_links.personal_account_attach_confirm_code(
                user=owner, number=stranger_account.number, code=wrong
            )
        errors.append(exc.value.message)
    # then: even the right code no longer works
    with pytest.raises(DomainError) as exc:
        services_links.personal_account_attach_confirm_code(
            user=owner, number=stranger_account.number, code=code
        )
    assert errors[0] == "Неверный код. Проверьте цифры из SMS."
    assert errors[4] == "Код введён неверно слишком много раз. Запросите новый код."
    assert exc.value.message == "Код устарел или не запрашивался. Запросите новый код."
    assert not PersonalAccountLink.objects.filter(user=owner, personal_account=stranger_account).exists()


def test_a_code_request_looks_the_same_for_an_unknown_number(owner, stranger_account):
    # given: a valid number (check digit) that no account has
    from kabinet.billing.numbers import personal_account_number_from_base

    unknown = personal_account_number_from_base(999_999_998)
    assert not PersonalAccount.objects.filter(number=unknown).exists()
    client = logged_in(owner)
    sent_before = OutboxMessage.objects.count()
    # when
    known = client.post(reverse("portal:attach"), {"number": stranger_account.number, "method": "sms"})
    unknown_response = client.post(reverse("portal:attach"), {"number": unknown, "method": "sms"})

    # then: same page, only the number differs; only the real account's phone got an SMS
    def normalized(response, number):
        html = response.content.decode().replace(number, "N")
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
        return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)

    assert normalized(known, stranger_account.number) == normalized(unknown_response, unknown)
    assert OutboxMessage.objects.count() == sent_before + 1
    with pytest.raises(DomainError) as exc:
        services_links.personal_account_attach_confirm_code(user=owner, number=unknown, code="123456")
    assert exc.value.message == "Неверный код. Проверьте цифры из SMS."


def test_a_number_with_a_wrong_check_digit_is_refused_in_russian(owner):
    # when
    response = logged_in(owner).post(reverse("portal:attach"), {"number": "1234567890", "method": "sms"})
    # then
    assert "Номер лицевого счёта указан неверно" in response.content.decode()
    assert OutboxMessage.objects.count() == 0


def test_code_requests_are_rate_limited(owner, stranger_account):
    # given
    for _i in range(services_links.REQUESTS_PER_WINDOW):
        services_links.personal_account_attach_request_code(user=owner, number=stranger_account.number)
    # when / then
    with pytest.raises(DomainError) as exc:
        services_links.personal_account_attach_request_code(user=owner, number=stranger_account.number)
    assert exc.value.code == "too_many_attempts"
    assert OutboxMessage.objects.count() == services_links.REQUESTS_PER_WINDOW


def test_attach_by_contract_number_and_last_payment(owner, stranger_account):
    # when
    response = logged_in(owner).post(
        reverse("portal:attach"),
        {
            "number": stranger_account.number,
            "method": "contract",
            "contract_number": "д-2026-17",
            "last_payment": "415,50",
        },
    )
    # then
    assert response.status_code == 302
    link = PersonalAccountLink.objects.get(user=owner, personal_account=stranger_account)
    assert link.method == PersonalAccountLink.Method.CONTRACT_AND_PAYMENT


@pytest.mark.parametrize(
    ("contract_number", "last_payment"),
    [("Д-2026-17", "300"), ("Д-2026-18", "415,50"), ("", "415,50")],
)
def test_attach_by_contract_with_a_wrong_proof_attaches_nothing(
    owner, stranger_account, contract_number, last_payment
):
    # when
    response = logged_in(owner).post(
        reverse("portal:attach"),
        {
            "number": stranger_account.number,
            "method": "contract",
            "contract_number": contract_number,
            "last_payment": last_payment,
        },
    )
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert ("Не удалось подтвердить, что этот лицевой счёт ваш" in html) or (
        "Укажите номер договора." in html
    )
    assert not PersonalAccountLink.objects.filter(user=owner, personal_account=stranger_account).exists()


def test_contract_attempts_are_rate_limited(owner, stranger_account):
    # given
    for _i in range(services_links.ATTEMPTS_PER_WINDOW):
        with pytest.raises(DomainError):
            services_links.personal_account_attach_by_contract(
                user=owner,
                number=stranger_account.number,
                contract_number="Д-2026-17",
                last_payment_kopecks=1,
            )
    # when / then: even the right proof is refused for now
    with pytest.raises(DomainError) as exc:
        services_links.personal_account_attach_by_contract(
            user=owner,
            number=stranger_account.number,
            contract_number="Д-2026-17",
            last_payment_kopecks=41550,
        )
    assert exc.value.code == "too_many_attempts"
    assert not PersonalAccountLink.objects.filter(user=owner, personal_account=stranger_account).exists()


def test_attaching_an_account_already_in_the_cabinet_is_a_clear_conflict(owner, owner_account):
    # given
    contract = Contract.objects.create(customer=owner.customer, number="Д-1", signed_at=dt.date(2025, 1, 1))
    PersonalAccount.objects.filter(pk=owner_account.pk).update(contract=contract)
    # when
    with pytest.raises(DomainError) as exc:
        services_links.personal_account_attach_by_contract(
            user=owner, number=owner_account.number, contract_number="Д-1", last_payment_kopecks=100000
        )
    # then
    assert exc.value.message == "Этот лицевой счёт уже есть в вашем кабинете."


def test_detach_removes_only_the_link(owner, owner_account):
    # given
    owner_account.ledger_account.refresh_from_db()
    balance = owner_account.ledger_account.balance_kopecks
    assert balance == 100000
    client = logged_in(owner)
    page = client.get(reverse("portal:account", args=[owner_account.pk])).content.decode()
    token = form_token_for(page, reverse("portal:detach", args=[owner_account.pk]))
    # when
    response = client.post(reverse("portal:detach", args=[owner_account.pk]), {"form_token": token})
    # then
    assert response.status_code == 302
    assert not PersonalAccountLink.objects.filter(user=owner, personal_account=owner_account).exists()
    owner_account.refresh_from_db()
    owner_account.ledger_account.refresh_from_db()
    assert owner_account.ledger_account.balance_kopecks == balance
    assert owner_account.subscriptions.filter(status="active").count() == 1
    assert client.get(reverse("portal:account", args=[owner_account.pk])).status_code == 404


def test_a_mobile_account_of_the_verified_phone_attaches_itself_on_the_dashboard(other):
    # given
    user = make_subscriber("mobile@example.com", phone="+79171112233", phone_verified=True)
    mobile = PersonalAccountFactory(customer=other.customer, service_kind="mobile", phone="+79171112233")
    not_mine = PersonalAccountFactory(customer=other.customer, service_kind="mobile", phone="+79171112234")
    # when
    response = logged_in(user).get(reverse("portal:dashboard"))
    # then
    assert mobile.number in response.content.decode()
    assert PersonalAccountLink.objects.get(user=user, personal_account=mobile).method == "mobile_number"
    assert not PersonalAccountLink.objects.filter(user=user, personal_account=not_mine).exists()


def test_a_phone_verified_mid_session_attaches_its_mobile_account_on_the_next_dashboard(
    other, django_assert_num_queries
):
    # given: a logged-in email user without a phone has seen the dashboard once
    user = make_subscriber("later-phone@example.com")
    client = logged_in(user)
    client.get(reverse("portal:dashboard"))
    mobile = PersonalAccountFactory(customer=other.customer, service_kind="mobile", phone="+79171112255")
    # when: the phone is verified in the same session (the profile's phone change), then the dashboard
    user.phone, user.phone_verified = "+79171112255", True
    user.save(update_fields=["phone", "phone_verified"])
    response = client.get(reverse("portal:dashboard"))
    # then: attached at once, with a notice; the next view does not look again
    html = response.content.decode()
    assert f"Лицевой счёт {mobile.number} вашего номера телефона добавлен в кабинет." in html
    assert PersonalAccountLink.objects.get(user=user, personal_account=mobile).method == "mobile_number"
    with django_assert_num_queries(4):  # user, accounts, news, bonus: no phone lookup
        client.get(reverse("portal:dashboard"))


def test_an_unverified_phone_attaches_nothing(other):
    # given
    user = make_subscriber("unverified@example.com", phone="+79171112299", phone_verified=False)
    PersonalAccountFactory(customer=other.customer, service_kind="mobile", phone="+79171112299")
    # when
    attached = services_links.personal_account_attach_by_verified_phone(user=user)
    # then
    assert attached == []
    assert not PersonalAccountLink.objects.filter(user=user).exists()


def test_proof_attempts_on_one_number_are_limited_across_users(stranger_account):
    # given: many cabinets guessing the same account's last payment
    users = [make_subscriber(f"guess{i}@example.com") for i in range(3)]
    attempts = 0
    for user in users:
        for _i in range(services_links.ATTEMPTS_PER_WINDOW):
            if attempts == services_links.ATTEMPTS_PER_NUMBER_PER_WINDOW:
                break
            with pytest.raises(DomainError) as exc:
                services_links.personal_account_attach_by_contract(
                    user=user,
                    number=stranger_account.number,
                    contract_number="Д-2026-17",
                    last_payment_kopecks=1,
                )
            assert exc.value.code == "attach_refused"
            attempts += 1
    # when / then: the next user is refused even with the right proof
    with pytest.raises(DomainError) as exc:
        services_links.personal_account_attach_by_contract(
            user=users[2],
            number=stranger_account.number,
            contract_number="Д-2026-17",
            last_payment_kopecks=41550,
        )
    assert exc.value.code == "too_many_attempts"
    assert not PersonalAccountLink.objects.filter(personal_account=stranger_account, user__in=users).exists()
