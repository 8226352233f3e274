"""Writes of the billing domain. Only this module (and the billing run) writes ledger tables."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kabinet.billing.models import (
    LedgerAccount,
    LedgerTransfer,
    PersonalAccount,
    PersonalAccountLink,
    Subscription,
)
from kabinet.billing.numbers import personal_account_number_random
from kabinet.core.audit import audit_log
from kabinet.core.exceptions import Conflict, DomainError
from kabinet.customers.models import Contract, Customer

# Codes of the operator's own ledger accounts.
REVENUE_PREFIX = "revenue:"
CLEARING_ACQUIRER = "clearing:acquirer"
CLEARING_BANK_REGISTRY = "clearing:bank_registry"
CASH_OFFICE = "cash:office"
ADJUSTMENTS = "adjustments"
BONUS_LIABILITY = "bonus:liability"
PROMISED_CREDIT = "credit:promised"

_SYSTEM_KINDS = {
    "revenue": LedgerAccount.Kind.REVENUE,
    "clearing": LedgerAccount.Kind.CLEARING,
    "cash": LedgerAccount.Kind.CASH,
    "adjustments": LedgerAccount.Kind.ADJUSTMENT,
    "bonus": LedgerAccount.Kind.BONUS,
    "credit": LedgerAccount.Kind.CREDIT,
}


def ledger_account_system(*, code: str) -> LedgerAccount:
    """The operator's ledger account with this code, created on first use."""
    kind = _SYSTEM_KINDS[code.split(":", 1)[0]]
    account, _created = LedgerAccount.objects.get_or_create(code=code, defaults={"kind": kind, "name": code})
    return account


def revenue_account_code(service_kind: str) -> str:
    return f"{REVENUE_PREFIX}{service_kind}"


@dataclass(frozen=True)
class TransferResult:
    transfer: LedgerTransfer
    created: bool


def ledger_transfer_post(
    *,
    key: str,
    debit: LedgerAccount,
    credit: LedgerAccount,
    amount_kopecks: int,
    kind: str,
    value_date: dt.date,
    description: str = "",
    subscription: Subscription | None = None,
    reverses: LedgerTransfer | None = None,
    ref: str = "",
    actor: Any = None,
    reason: str = "",
) -> TransferResult:
    """Post one transfer exactly once per ``key``; a replay returns the existing transfer.

    A replay with different amounts or accounts is a bug in the caller and raises Conflict.
    Balances are updated with F() increments in the same transaction, so concurrent posts to the
    same account never lose an update.
    """
    if not isinstance(amount_kopecks, int) or isinstance(amount_kopecks, bool) or amount_kopecks <= 0:
        raise DomainError(_("Сумма проводки должна быть положительным целым числом копеек."))
    if debit.pk == credit.pk:
        raise DomainError(_("Проводка должна затрагивать два разных счёта."))
    with transaction.atomic():
        try:
            with transaction.atomic():
                transfer = LedgerTransfer.objects.create(
                    key=key,
                    debit_account=debit,
                    credit_account=credit,
                    amount_kopecks=amount_kopecks,
                    kind=kind,
                    value_date=value_date,
                    description=description[:255],
                    subscription=subscription,
                    reverses=reverses,
                    ref=ref,
                    actor=actor if getattr(actor, "is_authenticated", False) else None,
                    reason=reason,
                )
        except IntegrityError:
            existing = LedgerTransfer.objects.filter(key=key).first()
            if existing is None:
                if reverses is not None:
                    raise Conflict(_("Эта проводка уже сторнирована.")) from None
                raise
            if (
                existing.amount_kopecks != amount_kopecks
                or existing.debit_account_id != debit.pk
                or existing.credit_account_id != credit.pk
            ):
                raise Conflict(
                    _("Проводка с этим ключом уже существует с другими суммой или счетами.")
                ) from None
            return TransferResult(existing, False)
        # Fixed order (pk) so two transfers between the same pair never deadlock.
        for account_id, delta in sorted([(debit.pk, -amount_kopecks), (credit.pk, amount_kopecks)]):
            LedgerAccount.objects.filter(pk=account_id).update(balance_kopecks=F("balance_kopecks") + delta)
    return TransferResult(transfer, True)


def ledger_transfer_reverse(
    *, transfer: LedgerTransfer, actor: Any = None, reason: str = ""
) -> TransferResult:
    """A correction: a new transfer in the opposite direction, linked to the original."""
    return ledger_transfer_post(
        key=f"reversal:{transfer.key}",
        debit=transfer.credit_account,
        credit=transfer.debit_account,
        amount_kopecks=transfer.amount_kopecks,
        kind=LedgerTransfer.Kind.REVERSAL,
        value_date=timezone.localdate(),
        description=_("Сторно: %(what)s") % {"what": transfer.description or transfer.key},
        reverses=transfer,
        actor=actor,
        reason=reason,
    )


def personal_account_open(
    *,
    customer: Customer,
    service_kind: str,
    contract: Contract | None = None,
    number: str | None = None,
    phone: str = "",
    address: str = "",
    credit_limit_kopecks: int = 0,
) -> PersonalAccount:
    """Open a personal account (with its ledger account) and show it to the customer's users."""
    with transaction.atomic():
        for _attempt in range(10):
            candidate = number or personal_account_number_random()
            if not PersonalAccount.objects.filter(number=candidate).exists():
                break
        else:  # pragma: no cover - 10 collisions in 900M numbers
            raise Conflict(_("Не удалось выбрать номер лицевого счёта, попробуйте ещё раз."))
        ledger = LedgerAccount.objects.create(code=f"pa:{candidate}", kind=LedgerAccount.Kind.SUBSCRIBER)
        account = PersonalAccount.objects.create(
            number=candidate,
            customer=customer,
            contract=contract,
            service_kind=service_kind,
            ledger_account=ledger,
            phone=phone,
            address=address,
            credit_limit_kopecks=credit_limit_kopecks,
        )
        for user in customer.users.all():
            PersonalAccountLink.objects.get_or_create(
                user=user, personal_account=account, defaults={"method": PersonalAccountLink.Method.OWNER}
            )
    return account


def personal_account_lock(*, personal_account_id: int) -> PersonalAccount:
    """Lock a personal account row for a read-then-write (call inside a transaction)."""
    return (
        PersonalAccount.objects.select_for_update()
        .select_related("ledger_account")
        .get(pk=personal_account_id)
    )


def personal_account_available_kopecks(*, personal_account: PersonalAccount) -> int:
    """Balance plus credit limit: what can still be charged before the account is blocked for debt."""
    balance = LedgerAccount.objects.values_list("balance_kopecks", flat=True).get(
        pk=personal_account.ledger_account_id
    )
    return balance + personal_account.credit_limit_kopecks


def personal_account_set_status(
    *, personal_account: PersonalAccount, status: str, reason: str = "", actor: Any = None
) -> PersonalAccount:
    with transaction.atomic():
        account = personal_account_lock(personal_account_id=personal_account.pk)
        old = account.status
        if old == status:
            return account
        account.status = status
        account.status_reason = reason
        account.status_changed_at = timezone.now()
        account.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
        if status == PersonalAccount.Status.ACTIVE:
            Subscription.objects.filter(
                personal_account=account, status=Subscription.Status.SUSPENDED
            ).update(status=Subscription.Status.ACTIVE)
        elif status in (PersonalAccount.Status.BLOCKED_DEBT, PersonalAccount.Status.BLOCKED_OPERATOR):
            Subscription.objects.filter(personal_account=account, status=Subscription.Status.ACTIVE).update(
                status=Subscription.Status.SUSPENDED
            )
        audit_log(
            actor=actor,
            action="personal_account.status",
            target=account,
            old={"status": old},
            new={"status": status},
            reason=reason,
        )
    return account


def personal_account_unblock_if_paid(*, personal_account: PersonalAccount, actor: Any = None) -> bool:
    """Restore service after a payment: an account blocked for debt whose balance is back above
    minus its credit limit becomes active and its subscriptions resume. Returns True if unblocked."""
    with transaction.atomic():
        account = personal_account_lock(personal_account_id=personal_account.pk)
        if account.status != PersonalAccount.Status.BLOCKED_DEBT:
            return False
        if account.ledger_account.balance_kopecks + account.credit_limit_kopecks < 0:
            return False
        personal_account_set_status(
            personal_account=account,
            status=PersonalAccount.Status.ACTIVE,
            reason=_("Разблокирован после оплаты"),
            actor=actor,
        )
    return True
