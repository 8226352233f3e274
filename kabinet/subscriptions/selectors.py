"""Reads of the subscriptions domain. Everything a subscriber sees takes the user and is limited to the
personal accounts linked to that user."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from kabinet.billing.models import PersonalAccount, Subscription, SubscriptionOption
from kabinet.catalog.models import Option, Tariff
from kabinet.catalog.selectors import option_list_compatible, tariff_switch_targets
from kabinet.core.exceptions import NotFound
from kabinet.subscriptions.models import ConsentRecord, PromisedPayment, VoluntaryBlock

_OPEN = (Subscription.Status.ACTIVE, Subscription.Status.SUSPENDED)


def _accounts_of(user: Any) -> QuerySet[PersonalAccount]:
    if not getattr(user, "is_authenticated", False):
        return PersonalAccount.objects.none()
    return PersonalAccount.objects.filter(links__user=user)


def subscription_list_for_user(
    *, user: Any, personal_account_id: int | None = None, include_ended: bool = False
) -> QuerySet[Subscription]:
    qs = Subscription.objects.filter(personal_account__in=_accounts_of(user))
    if personal_account_id is not None:
        qs = qs.filter(personal_account_id=personal_account_id)
    if not include_ended:
        qs = qs.filter(status__in=_OPEN)
    return qs.select_related("tariff", "next_tariff", "personal_account").order_by(
        "personal_account_id", "-started_on", "-id"
    )


def subscription_get_for_user(*, user: Any, subscription_id: int) -> Subscription:
    sub = subscription_list_for_user(user=user, include_ended=True).filter(pk=subscription_id).first()
    if sub is None:
        raise NotFound("Услуга не найдена.")
    return sub


def subscription_current(*, personal_account: PersonalAccount) -> Subscription | None:
    """The account's open subscription (one tariff per personal account)."""
    return (
        Subscription.objects.filter(personal_account=personal_account, status__in=_OPEN)
        .select_related("tariff", "next_tariff")
        .order_by("-started_on", "-id")
        .first()
    )


def subscription_switch_targets(*, subscription: Subscription) -> QuerySet[Tariff]:
    """Tariffs this subscription may switch to (the tariff's switchable_to, available, same service)."""
    return tariff_switch_targets(tariff=subscription.tariff)


def subscription_options_available(*, subscription: Subscription) -> QuerySet[Option]:
    """Options this subscription may switch on: same service kind, compatible with its tariff, available."""
    return option_list_compatible(tariff=subscription.tariff)


def subscription_options_active(*, subscription: Subscription) -> QuerySet[SubscriptionOption]:
    return (
        SubscriptionOption.objects.filter(subscription=subscription, status=SubscriptionOption.Status.ACTIVE)
        .select_related("option")
        .order_by("option__kind", "option__name")
    )


def subscription_option_get_for_user(*, user: Any, subscription_option_id: int) -> SubscriptionOption:
    so = (
        SubscriptionOption.objects.filter(
            pk=subscription_option_id, subscription__personal_account__in=_accounts_of(user)
        )
        .select_related("option", "subscription")
        .first()
    )
    if so is None:
        raise NotFound("Опция не найдена.")
    return so


def consent_list_for_user(*, user: Any, personal_account_id: int | None = None) -> QuerySet[ConsentRecord]:
    """The consent log: every consent given on the user's personal accounts, newest first."""
    qs = ConsentRecord.objects.filter(personal_account__in=_accounts_of(user))
    if personal_account_id is not None:
        qs = qs.filter(personal_account_id=personal_account_id)
    return qs.select_related("personal_account").order_by("-created_at", "-id")


def voluntary_block_active(*, personal_account: PersonalAccount) -> VoluntaryBlock | None:
    return VoluntaryBlock.objects.filter(
        personal_account=personal_account, status=VoluntaryBlock.Status.ACTIVE
    ).first()


def voluntary_block_get_for_user(*, user: Any, block_id: int) -> VoluntaryBlock:
    block = VoluntaryBlock.objects.filter(pk=block_id, personal_account__in=_accounts_of(user)).first()
    if block is None:
        raise NotFound("Блокировка не найдена.")
    return block


def voluntary_block_list_for_user(*, user: Any, personal_account_id: int) -> QuerySet[VoluntaryBlock]:
    return VoluntaryBlock.objects.filter(
        personal_account_id=personal_account_id, personal_account__in=_accounts_of(user)
    ).order_by("-starts_on", "-id")


def promised_payment_active(*, personal_account: PersonalAccount) -> PromisedPayment | None:
    return PromisedPayment.objects.filter(
        personal_account=personal_account, status=PromisedPayment.Status.ACTIVE
    ).first()


def promised_payment_list_for_user(*, user: Any, personal_account_id: int) -> QuerySet[PromisedPayment]:
    return PromisedPayment.objects.filter(
        personal_account_id=personal_account_id, personal_account__in=_accounts_of(user)
    ).order_by("-taken_on", "-id")
