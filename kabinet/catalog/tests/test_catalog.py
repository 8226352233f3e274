import datetime as dt

import pytest
import time_machine

from kabinet.billing.models import LedgerTransfer, Subscription
from kabinet.billing.run import billing_run
from kabinet.billing.tests.factories import PersonalAccountFactory, SubscriptionFactory
from kabinet.catalog.models import Option, PriceVersion, Tariff
from kabinet.catalog.selectors import (
    bundle_price_kopecks,
    option_list_compatible,
    tariff_next_price_change,
    tariff_price_on,
    tariff_switch_targets,
)
from kabinet.catalog.services import (
    bundle_create,
    option_create,
    tariff_archive,
    tariff_create,
    tariff_price_change,
    tariff_set_switchable,
)
from kabinet.core.exceptions import Conflict, DomainError
from kabinet.core.models import AuditEvent

pytestmark = pytest.mark.django_db

NOV_10 = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)


def _home(code: str, price: int, name: str = "") -> Tariff:
    return tariff_create(
        code=code,
        name=name or code,
        service_kind="internet",
        period="month",
        price_kopecks=price,
        effective_from=dt.date(2026, 1, 1),
    )


@time_machine.travel(NOV_10, tick=False)
def test_price_change_is_a_new_version_and_old_ones_stay() -> None:
    # given
    tariff = _home("home-100", 41500)
    # when
    tariff_price_change(tariff=tariff, price_kopecks=45000, effective_from=dt.date(2026, 12, 1))
    # then
    assert list(
        PriceVersion.objects.filter(tariff=tariff).values_list("effective_from", "price_kopecks")
    ) == [
        (dt.date(2026, 12, 1), 45000),
        (dt.date(2026, 1, 1), 41500),
    ]
    assert tariff_price_on(tariff=tariff, day=dt.date(2026, 11, 30)) == 41500
    assert tariff_price_on(tariff=tariff, day=dt.date(2026, 12, 1)) == 45000
    assert tariff_price_on(tariff=tariff, day=dt.date(2025, 12, 31)) is None
    upcoming = tariff_next_price_change(tariff=tariff, day=dt.date(2026, 11, 10))
    assert upcoming is not None and upcoming.price_kopecks == 45000
    assert AuditEvent.objects.filter(action="catalog.price_change", target_id=str(tariff.pk)).count() == 1


@time_machine.travel(NOV_10, tick=False)
def test_price_change_in_the_past_or_twice_for_a_date_is_refused() -> None:
    tariff = _home("home-100", 41500)
    with pytest.raises(DomainError) as excinfo:
        tariff_price_change(tariff=tariff, price_kopecks=45000, effective_from=dt.date(2026, 11, 9))
    assert (
        excinfo.value.message
        == "Новая цена не может действовать с прошедшей даты: выберите сегодня или позже."
    )
    tariff_price_change(tariff=tariff, price_kopecks=45000, effective_from=dt.date(2026, 12, 1))
    with pytest.raises(Conflict):
        tariff_price_change(tariff=tariff, price_kopecks=46000, effective_from=dt.date(2026, 12, 1))
    assert PriceVersion.objects.filter(tariff=tariff).count() == 2
    assert tariff_price_on(tariff=tariff, day=dt.date(2026, 12, 1)) == 45000


def test_subscriptions_keep_their_snapshot_until_the_new_price_takes_effect() -> None:
    # given: a subscriber on 415 ₽ since January; a new price of 450 ₽ from 1 December
    with time_machine.travel(NOV_10, tick=False):
        tariff = _home("home-100", 41500)
        tariff_price_change(tariff=tariff, price_kopecks=45000, effective_from=dt.date(2026, 12, 1))
    account = PersonalAccountFactory(balance_kopecks=200000)
    sub: Subscription = SubscriptionFactory(  # type: ignore[assignment]
        personal_account=account, tariff=tariff, started_on=dt.date(2026, 1, 1)
    )
    # when
    billing_run(run_date=dt.date(2026, 11, 1))
    billing_run(run_date=dt.date(2026, 11, 15))
    snapshot_in_november = Subscription.objects.get(pk=sub.pk).price_kopecks
    billing_run(run_date=dt.date(2026, 12, 1))
    # then
    assert snapshot_in_november == 41500
    assert Subscription.objects.get(pk=sub.pk).price_kopecks == 45000
    assert LedgerTransfer.objects.get(key=f"charge:{sub.pk}:2026-11").amount_kopecks == 41500
    assert LedgerTransfer.objects.get(key=f"charge:{sub.pk}:2026-12").amount_kopecks == 45000


@time_machine.travel(NOV_10, tick=False)
def test_switch_targets_are_available_tariffs_of_the_same_service() -> None:
    # given
    h100, h300, h500 = _home("home-100", 41500), _home("home-300", 59000), _home("home-500", 79000)
    tariff_set_switchable(tariff=h100, targets=[h300, h500])
    # when
    tariff_archive(tariff=h500, reason="Снят с продажи")
    # then
    assert list(tariff_switch_targets(tariff=h100)) == [h300]
    tv = tariff_create(code="tv", name="Базовый ТВ", service_kind="tv", period="month", price_kopecks=11900)
    with pytest.raises(DomainError) as excinfo:
        tariff_set_switchable(tariff=h100, targets=[tv])
    assert excinfo.value.message == "На тариф «Базовый ТВ» нельзя перейти: это другая услуга."
    assert list(h100.switchable_to.order_by("code")) == [h300, h500]


@time_machine.travel(NOV_10, tick=False)
def test_compatible_options() -> None:
    # given
    h100, h500 = _home("home-100", 41500), _home("home-500", 79000)
    static_ip = option_create(
        code="static-ip", name="Статический IP", service_kind="internet", period="month", price_kopecks=15000
    )
    boost = option_create(
        code="boost",
        name="Ускорение",
        service_kind="internet",
        period="month",
        price_kopecks=20000,
        compatible_tariffs=[h500],
    )
    retired = option_create(
        code="old", name="Старая опция", service_kind="internet", period="month", price_kopecks=100
    )
    retired.is_available = False
    retired.save()
    option_create(
        code="tv-kino", name="Кино", service_kind="tv", period="month", price_kopecks=19900, kind="tv_package"
    )
    # when / then
    assert list(option_list_compatible(tariff=h100)) == [static_ip]
    assert sorted(o.code for o in option_list_compatible(tariff=h500)) == ["boost", "static-ip"]
    assert Option.objects.get(code="boost") == boost


@time_machine.travel(NOV_10, tick=False)
def test_bundle_needs_two_services_and_a_sane_discount() -> None:
    h100 = _home("home-100", 41500)
    tv = tariff_create(code="tv", name="Базовый ТВ", service_kind="tv", period="month", price_kopecks=11900)
    h300 = _home("home-300", 59000)
    with pytest.raises(DomainError):
        bundle_create(code="b", name="Два интернета", tariffs=[h100, h300], discount_bp=1000)
    with pytest.raises(DomainError):
        bundle_create(code="b", name="Интернет + ТВ", tariffs=[h100, tv], discount_bp=9500)
    bundle = bundle_create(code="b", name="Интернет + ТВ", tariffs=[h100, tv], discount_bp=1500)
    assert bundle_price_kopecks(bundle=bundle, price_kopecks=41500) == 35275
    assert bundle_price_kopecks(bundle=bundle, price_kopecks=11900) == 10115
