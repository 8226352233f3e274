"""Reads of the billing domain. Everything a subscriber sees is filtered by the user's account links."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.core.exceptions import NotFound


def personal_account_list_for_user(*, user: Any) -> QuerySet[PersonalAccount]:
    if not getattr(user, "is_authenticated", False):
        return PersonalAccount.objects.none()
    return (
        PersonalAccount.objects.filter(links__user=user)
        .select_related("ledger_account")
        .order_by("service_kind", "number")
    )


def personal_account_get_for_user(*, user: Any, personal_account_id: int) -> PersonalAccount:
    account = personal_account_list_for_user(user=user).filter(pk=personal_account_id).first()
    if account is None:
        raise NotFound("Лицевой счёт не найден.")
    return account


def ledger_transfers_for_account(*, personal_account: PersonalAccount) -> QuerySet[LedgerTransfer]:
    ledger_id = personal_account.ledger_account_id
    return LedgerTransfer.objects.filter(
        Q(debit_account_id=ledger_id) | Q(credit_account_id=ledger_id)
    ).order_by("-value_date", "-id")


def ledger_account_balance(*, ledger_account_id: int) -> int:
    """The cached balance read fresh from the database (not from an instance loaded earlier)."""
    return LedgerAccount.objects.values_list("balance_kopecks", flat=True).get(pk=ledger_account_id)
