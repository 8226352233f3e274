import datetime as dt

import pytest

from kabinet.billing.models import PersonalAccount, Subscription
from kabinet.core.exceptions import DomainError
from kabinet.subscriptions.models import ConsentRecord, VoluntaryBlock
from kabinet.subscriptions.services import (
    subscription_connect,
    voluntary_block_end,
    voluntary_block_quote,
    voluntary_block_start,
    voluntary_blocks_process,
)
from kabinet.subscriptions.tests.conftest import account_for, make_tariff, transfer_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(subscriber, travel):
    tariff = make_tariff(name="Домашний 100", price_kopecks=41500, voluntary_block_fee_kopecks=300)
    account = account_for(subscriber, service_kind="internet", balance_kopecks=100000)
    travel(dt.date(2026, 11, 1))
    subscription_connect(
        actor=subscriber, personal_account=account, tariff=tariff, consent_given=True, consent_text="Да"
    )
    return account


def test_block_start_and_early_end(account, subscriber, travel) -> None:
    # given
    travel(dt.date(2026, 11, 3))
    quote = voluntary_block_quote(personal_account=account, days=30)
    # when
    block = voluntary_block_start(
        actor=subscriber,
        personal_account=account,
        days=30,
        consent_given=True,
        consent_text=quote.consent_text,
    )
    # then
    account.refresh_from_db()
    assert quote.allowed is True
    assert quote.total_fee_kopecks == 9000
    assert account.status == PersonalAccount.Status.BLOCKED_VOLUNTARY
    assert block.planned_end_on == dt.date(2026, 12, 2)
    assert set(Subscription.objects.values_list("status", flat=True)) == {Subscription.Status.SUSPENDED}
    assert ConsentRecord.objects.filter(action=ConsentRecord.Action.VOLUNTARY_BLOCK).count() == 1
    # when: the nights of the 4th and 5th, then an early end on the 5th
    for day in (4, 5):
        travel(dt.date(2026, 11, day))
        assert voluntary_blocks_process() == {"ended": 0, "charged": 1}
    assert voluntary_blocks_process() == {"ended": 0, "charged": 0}
    voluntary_block_end(actor=subscriber, block=block)
    # then
    block.refresh_from_db()
    account.refresh_from_db()
    assert block.status == VoluntaryBlock.Status.ENDED
    assert block.ended_on == dt.date(2026, 11, 5)
    assert account.status == PersonalAccount.Status.ACTIVE
    assert set(Subscription.objects.values_list("status", flat=True)) == {Subscription.Status.ACTIVE}
    assert [k for k in transfer_keys() if k.startswith("vblock-fee:")] == [
        f"vblock-fee:{block.pk}:2026-11-04",
        f"vblock-fee:{block.pk}:2026-11-05",
    ]


def _block_ended_on(account, subscriber, travel, ended_on: dt.date) -> None:
    travel(ended_on - dt.timedelta(days=3))
    block = voluntary_block_start(
        actor=subscriber, personal_account=account, days=10, consent_given=True, consent_text="Да"
    )
    travel(ended_on)
    voluntary_block_end(actor=subscriber, block=block)


def test_not_again_within_7_days_of_the_last_one(account, subscriber, travel) -> None:
    # given: the last block ended on 10 November
    _block_ended_on(account, subscriber, travel, dt.date(2026, 11, 10))
    # when: on the 6th day after
    travel(dt.date(2026, 11, 16))
    quote = voluntary_block_quote(personal_account=account, days=5)
    # then
    assert quote.allowed is False
    assert quote.available_from == dt.date(2026, 11, 17)
    assert quote.reason == "Добровольная блокировка снова доступна с 17 ноября."
    blocks = VoluntaryBlock.objects.count()
    with pytest.raises(DomainError) as excinfo:
        voluntary_block_start(
            actor=subscriber, personal_account=account, days=5, consent_given=True, consent_text="Да"
        )
    assert excinfo.value.message == "Добровольная блокировка снова доступна с 17 ноября."
    assert VoluntaryBlock.objects.count() == blocks
    account.refresh_from_db()
    assert account.status == PersonalAccount.Status.ACTIVE


def test_allowed_again_on_the_7th_day(account, subscriber, travel) -> None:
    # given
    _block_ended_on(account, subscriber, travel, dt.date(2026, 11, 10))
    # when
    travel(dt.date(2026, 11, 17))
    quote = voluntary_block_quote(personal_account=account, days=5)
    block = voluntary_block_start(
        actor=subscriber,
        personal_account=account,
        days=5,
        consent_given=True,
        consent_text=quote.consent_text,
    )
    # then
    assert quote.allowed is True
    assert quote.reason == ""
    assert block.status == VoluntaryBlock.Status.ACTIVE


@pytest.mark.parametrize(("days", "allowed"), [(0, False), (1, True), (90, True), (91, False)])
def test_block_length_is_1_to_90_days(account, travel, days: int, allowed: bool) -> None:
    travel(dt.date(2026, 11, 3))
    quote = voluntary_block_quote(personal_account=account, days=days)
    assert quote.allowed is allowed
    assert quote.reason == ("" if allowed else "Срок блокировки — от 1 до 90 дней.")


def test_rule_is_in_plain_words(account, travel) -> None:
    travel(dt.date(2026, 11, 3))
    quote = voluntary_block_quote(personal_account=account)
    assert quote.rule_text == (
        "Добровольная блокировка — от 1 до 90 дней, плата 3\u00a0₽ в сутки; абонентская плата за эти дни "
        "не списывается. Баланс при включении не должен быть отрицательным. Следующую можно включить "
        "не раньше чем через 7 дней после окончания предыдущей."
    )


def test_block_expires_on_its_own(account, subscriber, travel) -> None:
    # given: a 2-day block, the 3rd and 4th
    travel(dt.date(2026, 11, 3))
    block = voluntary_block_start(
        actor=subscriber, personal_account=account, days=2, consent_given=True, consent_text="Да"
    )
    # when: the nights of the 4th and 5th
    travel(dt.date(2026, 11, 4))
    voluntary_blocks_process()
    travel(dt.date(2026, 11, 5))
    result = voluntary_blocks_process()
    # then
    block.refresh_from_db()
    account.refresh_from_db()
    assert result == {"ended": 1, "charged": 0}
    assert block.ended_on == dt.date(2026, 11, 5)
    assert account.status == PersonalAccount.Status.ACTIVE


def test_paid_block_without_consent_is_refused(account, subscriber, travel) -> None:
    travel(dt.date(2026, 11, 3))
    with pytest.raises(DomainError) as excinfo:
        voluntary_block_start(actor=subscriber, personal_account=account, days=5)
    assert excinfo.value.code == "consent_required"
    assert VoluntaryBlock.objects.count() == 0
    account.refresh_from_db()
    assert account.status == PersonalAccount.Status.ACTIVE
