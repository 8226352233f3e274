import datetime as dt

import pytest

from kabinet.billing.models import LedgerTransfer, PersonalAccount, Subscription
from kabinet.core.exceptions import DomainError
from kabinet.subscriptions.models import ConsentRecord
from kabinet.subscriptions.services import (
    NEXT_PERIOD,
    NOW,
    subscription_cancel_scheduled_change,
    subscription_change_quote,
    subscription_change_tariff,
    subscription_connect,
)
from kabinet.subscriptions.tests.conftest import account_for, balance, make_tariff, transfer_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(db):
    basic = make_tariff(name="Домашний 100", code="home-100", price_kopecks=41500)
    fast = make_tariff(name="Домашний 300", code="home-300", price_kopecks=59000)
    basic.switchable_to.set([fast])
    fast.switchable_to.set([basic])
    return basic, fast


@pytest.fixture
def connected(subscriber, home, travel):
    basic, _fast = home
    account = account_for(subscriber, service_kind="internet", balance_kopecks=100000)
    travel(dt.date(2026, 11, 1))
    sub = subscription_connect(
        actor=subscriber,
        personal_account=account,
        tariff=basic,
        consent_given=True,
        consent_text="Согласен",
    )
    return account, sub


def test_connect_on_the_first_charges_the_full_month_under_the_run_key(connected) -> None:
    # given / when
    account, sub = connected
    # then
    transfer = LedgerTransfer.objects.get(key=f"charge:{sub.pk}:2026-11")
    assert transfer.amount_kopecks == 41500
    assert transfer.description == "Абонентская плата по тарифу «Домашний 100» за ноябрь 2026"
    assert balance(account) == 100000 - 41500
    assert sub.price_kopecks == 41500


def test_quote_now_shows_exact_proration(connected, home, travel) -> None:
    # given
    _account, sub = connected
    _basic, fast = home
    travel(dt.date(2026, 11, 25))
    # when
    quote = subscription_change_quote(subscription=sub, new_tariff=fast, when=NOW)
    # then: 6 of 30 days left
    assert quote.refund_kopecks == 8300
    assert quote.charge_kopecks == 11800
    assert quote.total_kopecks == 3500
    assert quote.effective_on == dt.date(2026, 11, 25)
    assert quote.explanation == (
        "Тариф сменится сегодня на «Домашний 300» (590\u00a0₽ в месяц). "
        "Вернём 83\u00a0₽ за неиспользованные дни тарифа «Домашний 100». "
        "Спишем 118\u00a0₽ за 6 дн. до конца месяца по новому тарифу. "
        "Итого сегодня спишется 35\u00a0₽."
    )


def test_change_now_prorates_both_tariffs(connected, home, travel, subscriber) -> None:
    # given
    account, sub = connected
    _basic, fast = home
    travel(dt.date(2026, 11, 20))
    quote = subscription_change_quote(subscription=sub, new_tariff=fast, when=NOW)
    # when
    new_sub = subscription_change_tariff(
        actor=subscriber,
        subscription=sub,
        new_tariff=fast,
        when=NOW,
        consent_given=True,
        consent_text=quote.consent_text,
        ip="10.0.0.7",
        user_agent="Mozilla/5.0 test",
    )
    # then: 11 of 30 days, rounded down as the billing run does: 415 * 11 / 30 = 152.1666 -> 152.16;
    # 590 * 11 / 30 = 216.3333 -> 216.33
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ENDED
    assert sub.ended_on == dt.date(2026, 11, 19)
    assert new_sub.tariff == fast
    assert new_sub.started_on == dt.date(2026, 11, 20)
    assert new_sub.price_kopecks == 59000
    refund = LedgerTransfer.objects.get(key=f"refund:{sub.pk}:2026-11")
    charge = LedgerTransfer.objects.get(key=f"charge:{new_sub.pk}:2026-11")
    assert refund.amount_kopecks == 15216
    assert refund.kind == LedgerTransfer.Kind.REVERSAL
    assert refund.description == (
        "Перерасчёт абонентской платы по тарифу «Домашний 100» за ноябрь 2026: не использовано с 20.11.2026"
    )
    assert charge.amount_kopecks == 21633
    assert quote.refund_kopecks == 15216
    assert quote.charge_kopecks == 21633
    assert balance(account) == 100000 - 41500 + 15216 - 21633
    consent = ConsentRecord.objects.get(action=ConsentRecord.Action.CHANGE_TARIFF_NOW)
    assert consent.user == subscriber
    assert consent.price_kopecks == 21633 - 15216
    assert consent.text == quote.consent_text
    assert consent.ip == "10.0.0.7"
    assert consent.user_agent == "Mozilla/5.0 test"


def test_scheduled_change_sets_next_tariff_and_moves_no_money(connected, home, travel, subscriber) -> None:
    # given
    _account, sub = connected
    _basic, fast = home
    travel(dt.date(2026, 11, 25))
    keys_before = transfer_keys()
    # when
    quote = subscription_change_quote(subscription=sub, new_tariff=fast, when=NEXT_PERIOD)
    result = subscription_change_tariff(
        actor=subscriber,
        subscription=sub,
        new_tariff=fast,
        when=NEXT_PERIOD,
        consent_given=True,
        consent_text=quote.consent_text,
    )
    # then
    assert result.pk == sub.pk
    sub.refresh_from_db()
    assert sub.next_tariff == fast
    assert sub.next_tariff_from == dt.date(2026, 12, 1)
    assert sub.tariff != fast
    assert quote.total_kopecks == 0
    assert quote.explanation.startswith("С 1 декабря тариф сменится на «Домашний 300»: 590\u00a0₽ в месяц.")
    assert transfer_keys() == keys_before
    assert ConsentRecord.objects.filter(action=ConsentRecord.Action.CHANGE_TARIFF_NEXT).count() == 1


def test_scheduled_change_of_a_daily_tariff_is_from_tomorrow(subscriber, travel) -> None:
    # given
    base = make_tariff(name="Летай Базовый", service_kind="mobile", period="day", price_kopecks=800)
    unlim = make_tariff(name="Летай Безлимит", service_kind="mobile", period="day", price_kopecks=1500)
    base.switchable_to.set([unlim])
    account = account_for(subscriber, service_kind="mobile", balance_kopecks=10000)
    travel(dt.date(2026, 11, 25))
    sub = subscription_connect(
        actor=subscriber, personal_account=account, tariff=base, consent_given=True, consent_text="Да"
    )
    # when
    subscription_change_tariff(
        actor=subscriber,
        subscription=sub,
        new_tariff=unlim,
        when=NEXT_PERIOD,
        consent_given=True,
        consent_text="Да",
    )
    # then
    sub.refresh_from_db()
    assert sub.next_tariff_from == dt.date(2026, 11, 26)
    assert LedgerTransfer.objects.get(key=f"charge:{sub.pk}:2026-11-25").amount_kopecks == 800


def test_change_now_of_a_daily_tariff_refunds_today(subscriber, travel) -> None:
    # given
    base = make_tariff(name="Летай Базовый", service_kind="mobile", period="day", price_kopecks=800)
    unlim = make_tariff(name="Летай Безлимит", service_kind="mobile", period="day", price_kopecks=1500)
    base.switchable_to.set([unlim])
    account = account_for(subscriber, service_kind="mobile", balance_kopecks=10000)
    travel(dt.date(2026, 11, 24))
    sub = subscription_connect(
        actor=subscriber, personal_account=account, tariff=base, consent_given=True, consent_text="Да"
    )
    travel(dt.date(2026, 11, 25))
    # the billing run's charge for today
    from kabinet.subscriptions.services import _charge

    _charge(
        account=account,
        key=f"charge:{sub.pk}:2026-11-25",
        amount_kopecks=800,
        value_date=dt.date(2026, 11, 25),
        description="run",
        subscription=sub,
        actor=None,
    )
    # when
    new_sub = subscription_change_tariff(
        actor=subscriber, subscription=sub, new_tariff=unlim, when=NOW, consent_given=True, consent_text="Да"
    )
    # then
    assert LedgerTransfer.objects.get(key=f"refund:{sub.pk}:2026-11-25").amount_kopecks == 800
    assert LedgerTransfer.objects.get(key=f"charge:{new_sub.pk}:2026-11-25").amount_kopecks == 1500
    assert balance(account) == 10000 - 800 - 800 + 800 - 1500


def test_cancel_scheduled_change(connected, home, travel, subscriber) -> None:
    # given
    _account, sub = connected
    _basic, fast = home
    travel(dt.date(2026, 11, 25))
    subscription_change_tariff(
        actor=subscriber,
        subscription=sub,
        new_tariff=fast,
        when=NEXT_PERIOD,
        consent_given=True,
        consent_text="Да",
    )
    # when
    subscription_cancel_scheduled_change(actor=subscriber, subscription=sub)
    # then
    sub.refresh_from_db()
    assert sub.next_tariff is None
    assert sub.next_tariff_from is None
    with pytest.raises(DomainError) as excinfo:
        subscription_cancel_scheduled_change(actor=subscriber, subscription=sub)
    assert excinfo.value.message == "Запланированной смены тарифа нет."


def _assert_nothing_changed(sub: Subscription, keys: list[str], consents: int) -> None:
    fresh = Subscription.objects.get(pk=sub.pk)
    assert fresh.status == Subscription.Status.ACTIVE
    assert fresh.next_tariff_id is None
    assert fresh.tariff_id == sub.tariff_id
    assert transfer_keys() == keys
    assert ConsentRecord.objects.count() == consents


def test_change_to_tariff_not_in_switchable_to_is_refused(connected, travel, subscriber) -> None:
    # given
    _account, sub = connected
    other = make_tariff(name="Домашний 500", code="home-500", price_kopecks=79000)
    travel(dt.date(2026, 11, 25))
    keys, consents = transfer_keys(), ConsentRecord.objects.count()
    # when
    with pytest.raises(DomainError) as excinfo:
        subscription_change_tariff(
            actor=subscriber,
            subscription=sub,
            new_tariff=other,
            when=NOW,
            consent_given=True,
            consent_text="Да",
        )
    # then
    assert excinfo.value.message == "С тарифа «Домашний 100» нельзя перейти на «Домашний 500»."
    assert excinfo.value.code == "tariff_not_allowed"
    _assert_nothing_changed(sub, keys, consents)


def test_change_to_archived_tariff_is_refused(connected, home, travel, subscriber) -> None:
    # given
    _account, sub = connected
    _basic, fast = home
    from kabinet.catalog.services import tariff_archive

    tariff_archive(tariff=fast)
    travel(dt.date(2026, 11, 25))
    keys, consents = transfer_keys(), ConsentRecord.objects.count()
    # when
    with pytest.raises(DomainError) as excinfo:
        subscription_change_tariff(
            actor=subscriber,
            subscription=sub,
            new_tariff=fast,
            when=NEXT_PERIOD,
            consent_given=True,
            consent_text="Да",
        )
    # then
    assert excinfo.value.message == "Тариф «Домашний 300» архивный и больше не подключается."
    _assert_nothing_changed(sub, keys, consents)


def test_change_to_other_service_tariff_is_refused(connected, travel, subscriber) -> None:
    # given
    _account, sub = connected
    tv = make_tariff(name="Базовый ТВ", service_kind="tv", price_kopecks=11900)
    sub.tariff.switchable_to.add(tv)  # even if an operator listed it by mistake
    travel(dt.date(2026, 11, 25))
    keys, consents = transfer_keys(), ConsentRecord.objects.count()
    # when
    with pytest.raises(DomainError) as excinfo:
        subscription_change_tariff(
            actor=subscriber, subscription=sub, new_tariff=tv, when=NOW, consent_given=True, consent_text="Да"
        )
    # then
    assert excinfo.value.message == "Тариф «Базовый ТВ» относится к другой услуге."
    _assert_nothing_changed(sub, keys, consents)


def test_change_on_blocked_account_is_refused(connected, home, travel, subscriber) -> None:
    # given
    account, sub = connected
    _basic, fast = home
    PersonalAccount.objects.filter(pk=account.pk).update(status=PersonalAccount.Status.BLOCKED_DEBT)
    travel(dt.date(2026, 11, 25))
    keys, consents = transfer_keys(), ConsentRecord.objects.count()
    # when
    with pytest.raises(DomainError) as excinfo:
        subscription_change_tariff(
            actor=subscriber,
            subscription=sub,
            new_tariff=fast,
            when=NOW,
            consent_given=True,
            consent_text="Да",
        )
    # then
    assert excinfo.value.message == (
        "Лицевой счёт заблокирован за неуплату: пополните баланс, и услуги можно будет менять."
    )
    _assert_nothing_changed(sub, keys, consents)


@pytest.mark.parametrize(("given", "text"), [(False, "Согласен"), (True, ""), (True, "   ")])
def test_change_without_consent_is_refused(connected, home, travel, subscriber, given, text) -> None:
    # given
    _account, sub = connected
    _basic, fast = home
    travel(dt.date(2026, 11, 25))
    keys, consents = transfer_keys(), ConsentRecord.objects.count()
    # when
    with pytest.raises(DomainError) as excinfo:
        subscription_change_tariff(
            actor=subscriber,
            subscription=sub,
            new_tariff=fast,
            when=NOW,
            consent_given=given,
            consent_text=text,
        )
    # then
    assert excinfo.value.code == "consent_required"
    assert excinfo.value.message == "Подтвердите согласие с изменением и его стоимостью."
    _assert_nothing_changed(sub, keys, consents)


def test_another_subscriber_cannot_change_my_tariff(connected, home, travel) -> None:
    # given
    from kabinet.identity.models import User

    _account, sub = connected
    _basic, fast = home
    stranger = User.objects.create_user(email="chuzhoi@example.test", password="Secret12345")
    travel(dt.date(2026, 11, 25))
    keys, consents = transfer_keys(), ConsentRecord.objects.count()
    # when
    with pytest.raises(DomainError) as excinfo:
        subscription_change_tariff(
            actor=stranger, subscription=sub, new_tariff=fast, when=NOW, consent_given=True, consent_text="Да"
        )
    # then
    assert excinfo.value.code == "forbidden"
    _assert_nothing_changed(sub, keys, consents)


def test_change_now_without_enough_money_is_refused(subscriber, home, travel) -> None:
    # given
    basic, fast = home
    account = account_for(subscriber, service_kind="internet", balance_kopecks=41500)
    travel(dt.date(2026, 11, 1))
    sub = subscription_connect(
        actor=subscriber, personal_account=account, tariff=basic, consent_given=True, consent_text="Да"
    )
    travel(dt.date(2026, 11, 2))
    keys, consents = transfer_keys(), ConsentRecord.objects.count()
    # when
    with pytest.raises(DomainError) as excinfo:
        subscription_change_tariff(
            actor=subscriber,
            subscription=sub,
            new_tariff=fast,
            when=NOW,
            consent_given=True,
            consent_text="Да",
        )
    # then: 29 days: refund 401.16, charge 570.33 -> 169.17 needed, 0 available
    quote = subscription_change_quote(subscription=sub, new_tariff=fast, when=NOW)
    assert quote.shortfall_kopecks == 16917
    assert quote.explanation.endswith(
        "Итого сегодня спишется 169,17\u00a0₽. Не хватает 169,17\u00a0₽: сначала пополните счёт."
    )
    assert (
        excinfo.value.message
        == "Недостаточно средств: нужно 169,17\u00a0₽, доступно 0\u00a0₽. Пополните счёт."
    )
    _assert_nothing_changed(sub, keys, consents)
