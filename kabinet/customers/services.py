"""Writes on customers and contracts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kabinet.core.audit import audit_log
from kabinet.core.exceptions import Conflict, DomainError
from kabinet.customers.models import Contract, Customer

# What happens when a customer is left without an active contract. Customers sits below identity,
# so identity registers its handler (switching the cabinets off) from IdentityConfig.ready; a
# handler is called inside the termination transaction as handler(customer=..., actor=..., reason=...).
_NO_ACTIVE_CONTRACT_HANDLERS: list[Callable[..., object]] = []

CONTRACT_TERMINATED_REASON = "contract terminated"


def customer_no_active_contract_handler_register(handler: Callable[..., object]) -> None:
    if handler not in _NO_ACTIVE_CONTRACT_HANDLERS:
        _NO_ACTIVE_CONTRACT_HANDLERS.append(handler)


def customer_contract_terminate(*, contract: Contract, actor: Any | None, reason: str = "") -> Contract:
    """Mark a contract terminated; a customer with no active contract left loses cabinet access."""
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        if locked.status == Contract.Status.TERMINATED:
            raise Conflict(_("Договор %(number)s уже расторгнут.") % {"number": locked.number})
        locked.status = Contract.Status.TERMINATED
        locked.terminated_at = timezone.now()
        locked.termination_reason = reason
        locked.save(update_fields=["status", "terminated_at", "termination_reason", "updated_at"])
        audit_log(
            actor=actor,
            action="contract.terminate",
            target=locked,
            old={"status": Contract.Status.ACTIVE},
            new={"status": Contract.Status.TERMINATED},
            reason=reason,
        )
        customer = locked.customer
        if not customer.contracts.filter(status=Contract.Status.ACTIVE).exists():
            for handler in _NO_ACTIVE_CONTRACT_HANDLERS:
                handler(customer=customer, actor=actor, reason=CONTRACT_TERMINATED_REASON)
    return locked


def customer_verification_decide(
    *, customer: Customer, actor: Any, approve: bool, reason: str = ""
) -> Customer:
    """Staff decision on an organization's questionnaire: verified or rejected (audited)."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.kind != Customer.Kind.ORGANIZATION:
            raise DomainError(_("Проверка нужна только организациям."), code="not_organization")
        if not approve and not reason.strip():
            raise DomainError(_("Укажите причину отказа."), code="reason_required", field="reason")
        new = Customer.Verification.VERIFIED if approve else Customer.Verification.REJECTED
        if locked.verification == new:
            raise Conflict(
                _("Решение уже принято: %(state)s.") % {"state": locked.get_verification_display()}
            )
        old = locked.verification
        locked.verification = new
        locked.save(update_fields=["verification", "updated_at"])
        audit_log(
            actor=actor,
            action="customer.verify" if approve else "customer.reject",
            target=locked,
            old={"verification": old},
            new={"verification": new},
            reason=reason,
        )
    return locked
