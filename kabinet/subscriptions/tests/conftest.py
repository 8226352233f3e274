from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest
import time_machine

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount, PersonalAccountLink
from kabinet.billing.tests.factories import OptionFactory, PersonalAccountFactory, TariffFactory
from kabinet.catalog.models import Option, Tariff
from kabinet.identity.models import User


@pytest.fixture
def travel() -> Any:
    """``travel(date)``: pin "now" to noon Moscow time of that date for the rest of the test."""
    travellers: list[Any] = []

    def _go(day: dt.date) -> None:
        for t in travellers:
            t.stop()
        travellers.clear()
        moment = dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC)  # 12:00 MSK
        traveller = time_machine.travel(moment, tick=False)
        traveller.start()
        travellers.append(traveller)

    yield _go
    for t in travellers:
        t.stop()


@pytest.fixture
def subscriber(db: Any) -> User:
    return User.objects.create_user(email="abonent@example.test", password="Secret12345")


def account_for(user: User, **kwargs: Any) -> PersonalAccount:
    account: PersonalAccount = PersonalAccountFactory(**kwargs)  # type: ignore[assignment]
    PersonalAccountLink.objects.get_or_create(user=user, personal_account=account)
    return account


def balance(account: PersonalAccount) -> int:
    return LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks


def transfer_keys() -> list[str]:
    return sorted(LedgerTransfer.objects.values_list("key", flat=True))


def make_tariff(**kwargs: Any) -> Tariff:
    return cast(Tariff, TariffFactory(**kwargs))


def make_option(**kwargs: Any) -> Option:
    return cast(Option, OptionFactory(**kwargs))
