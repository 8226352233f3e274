"""Ledger descriptions are written in the operator's language (Russian), whatever the interface language
of the person whose request posted them (kabinet.core.stored_text)."""

from __future__ import annotations

import pytest
from django.utils import translation

from kabinet.billing.models import LedgerTransfer, PersonalAccount, PersonalAccountLink
from kabinet.billing.services import AdjustmentDirection, ledger_adjustment_post
from kabinet.billing.tests.factories import CustomerFactory, PersonalAccountFactory
from kabinet.bonus.services import bonus_redeem
from kabinet.identity.models import User
from kabinet.payments.office import payment_office_create

pytestmark = pytest.mark.django_db


def test_descriptions_stay_russian_when_the_interface_is_english_or_tatar() -> None:
    # given a subscriber with an account, and an operator
    owner = User.objects.create_user(email="owner@example.test", password="x", customer=CustomerFactory())
    account: PersonalAccount = PersonalAccountFactory(customer=owner.customer)  # type: ignore[assignment]
    PersonalAccountLink.objects.get_or_create(user=owner, personal_account=account)
    staff = User.objects.create_user(email="staff@letai.test", password="x", is_staff=True)
    # when the operator works in English and the subscriber in Tatar
    with translation.override("en"):
        payment_office_create(actor=staff, account_number=account.number, amount="1000")
        ledger_adjustment_post(
            personal_account=account,
            direction=AdjustmentDirection.CREDIT,
            amount_kopecks=500,
            reason="Компенсация за аварию",
            token="adj-1",
            actor=staff,
        )
    with translation.override("tt"):
        bonus_redeem(user=owner, personal_account_id=account.pk, points=300, idempotency_key="k1")
    # then every line of the ledger reads in Russian
    descriptions = set(LedgerTransfer.objects.values_list("description", flat=True))
    assert descriptions == {
        "Оплата: В офисе",
        "Начислены бонусные баллы за платёж",
        "Зачисление оператором: Компенсация за аварию",
        "Оплата бонусными баллами «Летай Бонус»",
        "Баллы списаны в оплату услуг",
    }
