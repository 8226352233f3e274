"""Switching a cabinet off: by the subscriber (confirmed by password or SMS code), by staff with a
reason, or because the customer's last contract was terminated.

Login is refused afterwards (``is_active`` False: allauth shows its "account inactive" page, the
auth backends drop any remaining session), every session ends, billing records stay untouched.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kabinet.core.audit import audit_log
from kabinet.core.exceptions import Conflict, DomainError, PermissionDenied
from kabinet.identity.models import User

REASON_SELF = "по желанию абонента"
CODE_TTL_SECONDS = 5 * 60
CODE_MAX_ATTEMPTS = 5
CODE_RESEND_SECONDS = 60


def deactivation_confirm_method(*, user: User) -> str:
    """ "password" when the subscriber has one, else "sms" (e.g. registered by USSD, phone only)."""
    if user.has_usable_password():
        return "password"
    return "sms" if user.phone else "password"


def _code_key(user: User, purpose: str) -> str:
    return f"identity:{purpose}-code:{user.pk}"


def _code_hash(user: User, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{user.pk}:{code}".encode(), hashlib.sha256).hexdigest()


def user_sms_code_send(*, user: User, purpose: str, text: str) -> None:
    """Send a 6-digit code (valid 5 minutes) to the subscriber's own phone; ``text`` has ``%(code)s``.

    ``purpose`` keeps codes apart ("deactivate", "reauthenticate"): one is never accepted for the other.
    """
    if not user.phone:
        raise DomainError(_("У вас не указан телефон для SMS-кода."), code="no_phone")
    state = cache.get(_code_key(user, purpose))
    now = timezone.now().timestamp()
    if state and now - state["sent_at"] < CODE_RESEND_SECONDS:
        wait = int(CODE_RESEND_SECONDS - (now - state["sent_at"])) + 1
        raise DomainError(
            _("Новый код можно запросить через %(seconds)s с.") % {"seconds": wait},
            code="code_resend_too_soon",
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    cache.set(
        _code_key(user, purpose),
        {"hash": _code_hash(user, code), "sent_at": now, "attempts": 0},
        CODE_TTL_SECONDS,
    )
    from kabinet.notifications.sms import sms_send

    sms_send(to=user.phone, text=text % {"code": code})


def user_sms_code_check(*, user: User, purpose: str, code: str) -> None:
    """Raise DomainError unless ``code`` is the one last sent for ``purpose``; a right code is used up."""
    key = _code_key(user, purpose)
    state = cache.get(key)
    if not state:
        raise DomainError(
            _("Код истёк или не запрашивался. Запросите новый код."), code="code_expired", field="code"
        )
    if state["attempts"] >= CODE_MAX_ATTEMPTS:
        raise DomainError(
            _("Слишком много неверных попыток. Запросите новый код."), code="code_attempts", field="code"
        )
    if not hmac.compare_digest(state["hash"], _code_hash(user, code.strip())):
        state["attempts"] += 1
        cache.set(key, state, CODE_TTL_SECONDS)
        raise DomainError(_("Неверный код."), code="code_wrong", field="code")
    cache.delete(key)


def deactivation_code_send(*, user: User) -> None:
    """Send a 6-digit SMS code that confirms switching the cabinet off (valid 5 minutes)."""
    user_sms_code_send(
        user=user, purpose="deactivate", text=_("Летай: код для отключения личного кабинета %(code)s.")
    )


def deactivation_confirm(*, user: User, password: str = "", code: str = "") -> None:
    """Raise DomainError unless the subscriber proved it is them (password or SMS code)."""
    if deactivation_confirm_method(user=user) == "password":
        if not password or not user.check_password(password):
            raise DomainError(_("Неверный пароль."), code="password_wrong", field="password")
    else:
        user_sms_code_check(user=user, purpose="deactivate", code=code)


def user_sessions_end(*, user: User) -> int:
    """End every session of the user (browser sessions and app session tokens alike)."""
    from allauth.usersessions.models import UserSession

    sessions = list(UserSession.objects.filter(user_id=user.pk))
    for session in sessions:
        session.end()
    return len(sessions)


def user_deactivate(*, user: User, actor: Any | None, reason: str, ip: str | None = None) -> User:
    """Switch the cabinet off: login refused, sessions ended. Billing records are not touched."""
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Укажите причину отключения."), code="reason_required", field="reason")
    if actor is not None and actor.pk != user.pk and not actor.is_staff:
        raise PermissionDenied(_("Отключить чужой личный кабинет может только сотрудник."))
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            raise Conflict(_("Личный кабинет уже отключён."), code="already_deactivated")
        locked.is_active = False
        locked.deactivated_at = timezone.now()
        locked.deactivation_reason = reason[:255]
        locked.save(update_fields=["is_active", "deactivated_at", "deactivation_reason"])
        audit_log(
            actor=actor,
            action="identity.cabinet_deactivate",
            target=locked,
            old={"is_active": True},
            new={"is_active": False, "deactivated_at": locked.deactivated_at.isoformat()},
            reason=reason,
            ip=ip,
        )
        user_sessions_end(user=locked)
    user.is_active = locked.is_active
    user.deactivated_at = locked.deactivated_at
    user.deactivation_reason = locked.deactivation_reason
    return locked


def users_suspend_for_customer(*, customer: Any, actor: Any | None, reason: str) -> int:
    """Switch off every active cabinet of a customer (its last contract was terminated)."""
    count = 0
    for user in User.objects.filter(customer=customer, is_active=True).order_by("pk"):
        user_deactivate(user=user, actor=actor, reason=reason)
        count += 1
    return count
