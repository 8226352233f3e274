"""E-wallets: linked in the profile through the acquirer's wallet method, then used for top-ups.

Linking is a first top-up from the wallet with ``save_payment_method``: the payer confirms it on the
acquirer's wallet page; when the payment has succeeded the acquirer reports the saved method (its id
and the wallet's number), and the link becomes active. A linked wallet then pays without a redirect
(``payment_method_id``). Every payment goes through ``payment_initiate`` (the operator's rules) and is
settled by ``payment_sync`` like a card payment.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kabinet.billing.selectors import personal_account_get_for_user
from kabinet.core.audit import audit_log
from kabinet.core.exceptions import DomainError, NotFound
from kabinet.payments.acquirer.client import acquirer_client
from kabinet.payments.acquirer.interface import AcquirerError
from kabinet.payments.models import Payment, WalletLink
from kabinet.payments.services import payment_initiate, payment_sync

logger = logging.getLogger(__name__)

# The wallets the acquirer accepts (the sandbox, like YooKassa's API, takes ``yoo_money``).
SUPPORTED_WALLET_TYPES = (WalletLink.WalletType.YOOMONEY,)


def wallet_mask(account_number: str) -> str:
    """ "41001234567890" -> "4100 **** 7890"."""
    digits = "".join(ch for ch in account_number if ch.isalnum())
    if len(digits) <= 8:
        return digits
    return f"{digits[:4]} **** {digits[-4:]}"


def wallet_pay_start(
    *,
    user: Any,
    personal_account_id: int,
    wallet_type: str,
    amount: str | int,
    idempotency_key: str,
    remember: bool = True,
    site_url: str | None = None,
) -> Payment:
    """Top up from an e-wallet: the payer is sent to ``payment.confirmation_url`` (the wallet's page).
    With ``remember`` the wallet is linked to the profile once the payment succeeds."""
    if wallet_type not in SUPPORTED_WALLET_TYPES:
        raise DomainError(_("Выберите электронный кошелёк из списка."), field="wallet_type")
    account = personal_account_get_for_user(user=user, personal_account_id=personal_account_id)
    payment = payment_initiate(
        personal_account=account,
        idempotency_key=idempotency_key,
        amount=amount,
        user=user,
        site_url=site_url,
        method=Payment.Method.WALLET,
        acquirer_options={"payment_method_data": {"type": wallet_type}, "save_payment_method": remember},
    )
    if remember:
        WalletLink.objects.get_or_create(
            linking_payment=payment,
            defaults={"user": user, "wallet_type": wallet_type, "masked_id": "", "is_active": False},
        )
    return payment


def wallet_links_sync(*, user: Any) -> int:
    """Activate links whose linking payment has succeeded: ask the acquirer which method it saved.
    Called when the profile shows the wallets; returns the number of links activated."""
    activated = 0
    pending = WalletLink.objects.filter(
        user=user, is_active=False, payment_method_id="", linking_payment__status=Payment.Status.SUCCEEDED
    ).select_related("linking_payment")
    for link in pending:
        payment = link.linking_payment
        if payment is None or not payment.acquirer_payment_id:
            continue
        try:
            remote = acquirer_client().payment_get(payment_id=payment.acquirer_payment_id)
        except AcquirerError as exc:
            logger.warning("wallet link %s: acquirer unavailable: %s", link.pk, exc)
            continue
        method = remote.raw.get("payment_method") or {}
        if not method.get("saved") or not method.get("id"):
            continue
        masked = wallet_mask(str(method.get("account_number") or method.get("title") or ""))
        with transaction.atomic():
            existing = (
                WalletLink.objects.select_for_update()
                .filter(user=user, wallet_type=link.wallet_type, masked_id=masked, is_active=True)
                .first()
            )
            if existing is not None:  # the same wallet linked again: refresh its saved method
                existing.payment_method_id = str(method["id"])[:64]
                existing.save(update_fields=["payment_method_id", "updated_at"])
                link.delete()
                continue
            link.payment_method_id = str(method["id"])[:64]
            link.masked_id = masked
            link.is_active = True
            try:
                with transaction.atomic():
                    link.save(update_fields=["payment_method_id", "masked_id", "is_active", "updated_at"])
            except IntegrityError:
                continue
            audit_log(
                actor=user,
                action="payments.wallet_link",
                target=link,
                new={"wallet_type": link.wallet_type, "masked_id": masked},
            )
            activated += 1
    return activated


def wallet_link_list(*, user: Any) -> QuerySet[WalletLink]:
    if not getattr(user, "is_authenticated", False):
        return WalletLink.objects.none()
    return WalletLink.objects.filter(user=user, is_active=True).order_by("-created_at", "-id")


def wallet_link_get(*, user: Any, link_id: int) -> WalletLink:
    link = wallet_link_list(user=user).filter(pk=link_id).first()
    if link is None:
        raise NotFound(_("Кошелёк не найден."))
    return link


def wallet_unlink(*, user: Any, link_id: int) -> None:
    link = wallet_link_get(user=user, link_id=link_id)
    with transaction.atomic():
        WalletLink.objects.filter(pk=link.pk).update(is_active=False)
        audit_log(
            actor=user,
            action="payments.wallet_unlink",
            target=link,
            old={"wallet_type": link.wallet_type, "masked_id": link.masked_id},
        )


def wallet_topup(
    *, user: Any, link_id: int, personal_account_id: int, amount: str | int, idempotency_key: str
) -> Payment:
    """Top up from a linked wallet: charged without a redirect and settled at once."""
    link = wallet_link_get(user=user, link_id=link_id)
    account = personal_account_get_for_user(user=user, personal_account_id=personal_account_id)
    payment = payment_initiate(
        personal_account=account,
        idempotency_key=idempotency_key,
        amount=amount,
        user=user,
        method=Payment.Method.WALLET,
        acquirer_options={"payment_method_id": link.payment_method_id},
    )
    if payment.status not in (Payment.Status.SUCCEEDED, Payment.Status.CANCELED):
        payment = payment_sync(payment=payment)
    return payment
