"""factory_boy factories for billing tests (reused by other apps' tests).

- ``CustomerFactory``: an individual customer.
- ``PersonalAccountFactory``: opened through ``personal_account_open`` (so it has its ledger account
  and the customer's users see it); pass ``balance_kopecks`` to fund it with a real ledger transfer.
- ``TariffFactory``: a tariff with one ``PriceVersion`` (``price_kopecks``, effective ``price_from``).
- ``SubscriptionFactory``: a tariff on a personal account with the price snapshot taken from the tariff.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import factory

from kabinet.billing.models import LedgerTransfer, PersonalAccount, Subscription, SubscriptionOption
from kabinet.billing.services import (
    ADJUSTMENTS,
    ledger_account_system,
    ledger_transfer_post,
    personal_account_open,
)
from kabinet.catalog.models import Option, Period, PriceVersion, ServiceKind, Tariff
from kabinet.customers.models import Customer

_funding_counter = itertools.count(1)


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    kind = Customer.Kind.INDIVIDUAL
    last_name = factory.Sequence(lambda n: f"Иванов{n}")
    first_name = "Иван"
    display_name = factory.LazyAttribute(lambda o: f"{o.last_name} {o.first_name}")


class PersonalAccountFactory(factory.django.DjangoModelFactory[PersonalAccount]):
    """``PersonalAccountFactory(customer=..., service_kind="internet", balance_kopecks=50000)``."""

    class Meta:
        model = PersonalAccount

    customer = factory.SubFactory(CustomerFactory)
    service_kind = ServiceKind.INTERNET
    credit_limit_kopecks = 0

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> PersonalAccount:
        balance = kwargs.pop("balance_kopecks", 0)
        status = kwargs.pop("status", None)
        account = personal_account_open(**kwargs)
        if balance:
            personal_account_fund(personal_account=account, amount_kopecks=balance)
        if status is not None and status != account.status:
            PersonalAccount.objects.filter(pk=account.pk).update(status=status)
            account.refresh_from_db()
        return account


def personal_account_fund(
    *, personal_account: PersonalAccount, amount_kopecks: int, value_date: dt.date | None = None
) -> None:
    """Move money onto (positive) or off (negative) a personal account through the ledger."""
    adjustments = ledger_account_system(code=ADJUSTMENTS)
    ledger = personal_account.ledger_account
    debit, credit = (adjustments, ledger) if amount_kopecks > 0 else (ledger, adjustments)
    ledger_transfer_post(
        key=f"test-funding:{personal_account.pk}:{next(_funding_counter)}",
        debit=debit,
        credit=credit,
        amount_kopecks=abs(amount_kopecks),
        kind=LedgerTransfer.Kind.ADJUSTMENT,
        value_date=value_date or dt.date(2026, 1, 1),
        description="Начальный баланс (тест)",
    )


class TariffFactory(factory.django.DjangoModelFactory[Tariff]):
    """``TariffFactory(period="month", price_kopecks=41500, price_from=date(2026, 1, 1))``."""

    class Meta:
        model = Tariff

    code = factory.Sequence(lambda n: f"tariff-{n}")
    name = factory.Sequence(lambda n: f"Домашний {100 + n}")
    service_kind = ServiceKind.INTERNET
    period = Period.MONTH
    status = Tariff.Status.AVAILABLE
    voluntary_block_fee_kopecks = 0

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Tariff:
        price = kwargs.pop("price_kopecks", 41500)
        price_from = kwargs.pop("price_from", dt.date(2020, 1, 1))
        tariff = super()._create(model_class, *args, **kwargs)
        PriceVersion.objects.create(tariff=tariff, price_kopecks=price, effective_from=price_from)
        return tariff


class OptionFactory(factory.django.DjangoModelFactory[Option]):
    """An option with one PriceVersion: ``OptionFactory(period="month", price_kopecks=9900)``."""

    class Meta:
        model = Option

    code = factory.Sequence(lambda n: f"option-{n}")
    name = factory.Sequence(lambda n: f"Опция {n}")
    service_kind = ServiceKind.INTERNET
    period = Option.OptionPeriod.MONTH

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Option:
        price = kwargs.pop("price_kopecks", 9900)
        price_from = kwargs.pop("price_from", dt.date(2020, 1, 1))
        option = super()._create(model_class, *args, **kwargs)
        PriceVersion.objects.create(option=option, price_kopecks=price, effective_from=price_from)
        return option


class SubscriptionFactory(factory.django.DjangoModelFactory[Subscription]):
    """``SubscriptionFactory(personal_account=pa, tariff=t, started_on=date(2026, 11, 1))``.

    The price snapshot and period come from the tariff's price on ``started_on`` unless given.
    """

    class Meta:
        model = Subscription

    personal_account = factory.SubFactory(PersonalAccountFactory)
    tariff = factory.SubFactory(TariffFactory)
    status = Subscription.Status.ACTIVE
    started_on = dt.date(2026, 1, 1)
    price_kopecks = factory.LazyAttribute(lambda o: o.tariff.price_on(o.started_on) or 0)
    period = factory.LazyAttribute(lambda o: o.tariff.period)


class SubscriptionOptionFactory(factory.django.DjangoModelFactory[SubscriptionOption]):
    class Meta:
        model = SubscriptionOption

    subscription = factory.SubFactory(SubscriptionFactory)
    option = factory.SubFactory(OptionFactory)
    status = SubscriptionOption.Status.ACTIVE
    started_on = factory.LazyAttribute(lambda o: o.subscription.started_on)
    price_kopecks = factory.LazyAttribute(lambda o: o.option.price_on(o.started_on) or 0)
    period = factory.LazyAttribute(lambda o: o.option.period)
