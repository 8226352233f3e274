"""Writes of the subscriptions domain: connecting and disconnecting tariffs, tariff changes (now or
from the next period), options, voluntary block, promised payment, and the consent log.

Rules (documented in docs/services.md):
- Money moves only through ``ledger_transfer_post`` with deterministic keys, so every call is
  idempotent where it moves money. Fees and refunds use the billing run's own keys and formulas
  (``kabinet/billing/run.py``), so the run skips whatever a service already charged or refunded:
  ``charge:<subscription>:<YYYY-MM>`` / ``...:<YYYY-MM-DD>``, ``refund:<subscription>:<YYYY-MM>``,
  ``charge:opt:<id>:<YYYY-MM>`` / ``...:<YYYY-MM-DD>`` / ``...:once``, ``refund:opt:<id>:<YYYY-MM>``.
  A daily fee given back on a change "now" is ``refund:<subscription>:<YYYY-MM-DD>``. Promised
  payments: ``promised:<id>``, ``promised-return:<id>``, ``promised-fee:<id>``.
- Every paid change needs ``consent_given=True`` with the ``consent_text`` shown, and writes a
  ``ConsentRecord`` in the same transaction. Refusals raise ``DomainError`` with a Russian message and
  change nothing.
- Read-then-write on an account happens under ``personal_account_lock``; every write is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kabinet.billing.models import (
    LedgerAccount,
    LedgerTransfer,
    PersonalAccount,
    PersonalAccountLink,
    Subscription,
    SubscriptionOption,
)
from kabinet.billing.selectors import ledger_account_balance
from kabinet.billing.services import (
    PROMISED_CREDIT,
    ledger_account_system,
    ledger_transfer_post,
    personal_account_lock,
    personal_account_set_status,
    personal_account_unblock_if_paid,
    revenue_account_code,
)
from kabinet.catalog.models import Bundle, Option, Period, Tariff
from kabinet.catalog.selectors import (
    bundle_price_kopecks,
    option_is_compatible,
    option_price_on,
    tariff_price_on,
)
from kabinet.core.audit import audit_log
from kabinet.core.exceptions import Conflict, DomainError, PermissionDenied
from kabinet.core.money import format_kopecks
from kabinet.core.stored_text import in_operator_language, stored_text
from kabinet.subscriptions.calendar import (
    date_words,
    days_in_month,
    days_to_month_end,
    month_end,
    month_key,
    month_words,
    next_month_start,
    prorate_kopecks,
)
from kabinet.subscriptions.models import (
    BundleMembership,
    ConsentRecord,
    PromisedPayment,
    PromisedPaymentRule,
    VoluntaryBlock,
)

NOW = "now"
NEXT_PERIOD = "next_period"
_OPEN = (Subscription.Status.ACTIVE, Subscription.Status.SUSPENDED)


# --------------------------------------------------------------------------------------------------
# Shared helpers


def _today() -> dt.date:
    return timezone.localdate()


def _per_period(period: str) -> str:
    words: dict[str, str] = {
        Period.DAY.value: _("в сутки"),
        Period.MONTH.value: _("в месяц"),
        Option.OptionPeriod.ONCE.value: _("разово"),
    }
    return words.get(period, "")


def _ensure_can_manage(*, actor: Any, personal_account: PersonalAccount) -> None:
    """Defence in depth: a subscriber acts only on accounts linked to them; staff and system (None) on any."""
    if actor is None or getattr(actor, "is_staff", False):
        return
    if (
        not getattr(actor, "is_authenticated", False)
        or not PersonalAccountLink.objects.filter(user=actor, personal_account=personal_account).exists()
    ):
        raise PermissionDenied(_("Нет доступа к этому лицевому счёту."))


def _ensure_active(account: PersonalAccount) -> None:
    if account.status == PersonalAccount.Status.ACTIVE:
        return
    messages: dict[str, str] = {
        PersonalAccount.Status.BLOCKED_DEBT.value: _(
            "Лицевой счёт заблокирован за неуплату: пополните баланс, и услуги можно будет менять."
        ),
        PersonalAccount.Status.BLOCKED_VOLUNTARY.value: _(
            "Лицевой счёт в добровольной блокировке: завершите её, чтобы менять услуги."
        ),
        PersonalAccount.Status.BLOCKED_OPERATOR.value: _(
            "Лицевой счёт заблокирован оператором; обратитесь в поддержку: 8-843-222-22-22."
        ),
        PersonalAccount.Status.TERMINATED.value: _("Лицевой счёт закрыт."),
    }
    raise DomainError(messages.get(account.status, _("Лицевой счёт не активен.")), code="account_not_active")


def _require_consent(*, consent_given: bool, consent_text: str) -> None:
    if consent_given is not True or not (consent_text or "").strip():
        raise DomainError(
            _("Подтвердите согласие с изменением и его стоимостью."), code="consent_required", field="consent"
        )


def _consent_write(
    *,
    actor: Any,
    personal_account: PersonalAccount,
    action: str,
    subject: str,
    price_kopecks: int,
    text: str,
    target: str,
    ip: str | None,
    user_agent: str,
) -> ConsentRecord:
    return ConsentRecord.objects.create(
        user=actor if getattr(actor, "is_authenticated", False) else None,
        personal_account=personal_account,
        action=action,
        subject=subject[:255],
        price_kopecks=price_kopecks,
        text=text,
        ip=ip or None,
        user_agent=(user_agent or "")[:500],
        target=target,
    )


def _revenue(service_kind: str) -> LedgerAccount:
    return ledger_account_system(code=revenue_account_code(service_kind))


def _charge(
    *,
    account: PersonalAccount,
    key: str,
    amount_kopecks: int,
    value_date: dt.date,
    description: str,
    subscription: Subscription | None,
    actor: Any,
) -> bool:
    """Post a charge once per key; True if this call moved the money."""
    if amount_kopecks <= 0:
        return False
    return ledger_transfer_post(
        key=key,
        debit=account.ledger_account,
        credit=_revenue(account.service_kind),
        amount_kopecks=amount_kopecks,
        kind=LedgerTransfer.Kind.CHARGE,
        value_date=value_date,
        description=description,
        subscription=subscription,
        actor=actor,
    ).created


def _refund(
    *,
    account: PersonalAccount,
    key: str,
    amount_kopecks: int,
    value_date: dt.date,
    description: str,
    subscription: Subscription | None,
    actor: Any,
) -> None:
    if amount_kopecks <= 0:
        return
    ledger_transfer_post(
        key=key,
        debit=_revenue(account.service_kind),
        credit=account.ledger_account,
        amount_kopecks=amount_kopecks,
        # The same kind as the billing run's own recalculations (REFUND is money back to a card).
        kind=LedgerTransfer.Kind.REVERSAL,
        value_date=value_date,
        description=description,
        subscription=subscription,
        actor=actor,
    )


def _charged(key: str) -> int:
    """The amount already charged under ``key`` (0 if nothing)."""
    return LedgerTransfer.objects.filter(key=key).values_list("amount_kopecks", flat=True).first() or 0


def _balance(account: PersonalAccount) -> int:
    return ledger_account_balance(ledger_account_id=account.ledger_account_id)


def _ensure_funds(*, account: PersonalAccount, amount_kopecks: int) -> None:
    if amount_kopecks <= 0:
        return
    available = _balance(account) + account.credit_limit_kopecks
    if available < amount_kopecks:
        raise DomainError(
            _("Недостаточно средств: нужно %(need)s, доступно %(have)s. Пополните счёт.")
            % {"need": format_kopecks(amount_kopecks), "have": format_kopecks(max(available, 0))},
            code="insufficient_funds",
        )


def _shortfall_kopecks(*, account: PersonalAccount, amount_kopecks: int) -> int:
    """How much is missing for a charge of ``amount_kopecks`` now (0 if balance + credit limit cover it)."""
    if amount_kopecks <= 0:
        return 0
    available = _balance(account) + account.credit_limit_kopecks
    return max(amount_kopecks - max(available, 0), 0)


def _shortfall_words(shortfall: int) -> str:
    return _("Не хватает %(sum)s: сначала пополните счёт.") % {"sum": format_kopecks(shortfall)}


@in_operator_language
def _fee_description(*, tariff_name: str, period: str, day: dt.date, days: int | None = None) -> str:
    if period == Period.DAY:
        return _("Абонентская плата по тарифу «%(name)s» за %(date)s") % {
            "name": tariff_name,
            "date": day.strftime("%d.%m.%Y"),
        }
    if days is not None and days < days_in_month(day):
        return _("Абонентская плата по тарифу «%(name)s» за %(month)s (с %(date)s, %(days)s дн.)") % {
            "name": tariff_name,
            "month": month_words(day),
            "date": day.strftime("%d.%m"),
            "days": days,
        }
    return _("Абонентская плата по тарифу «%(name)s» за %(month)s") % {
        "name": tariff_name,
        "month": month_words(day),
    }


def _period_charge_key(*, subscription_id: int, period: str, day: dt.date) -> str:
    if period == Period.DAY:
        return f"charge:{subscription_id}:{day.isoformat()}"
    return f"charge:{subscription_id}:{month_key(day)}"


def _first_charge_kopecks(*, price_kopecks: int, period: str, day: dt.date) -> int:
    """What starting a tariff on ``day`` costs at once: a day's fee, or the rest of the month prorated."""
    if period == Period.DAY:
        return price_kopecks
    return prorate_kopecks(
        price_kopecks=price_kopecks, days=days_to_month_end(day), days_in_month=days_in_month(day)
    )


def _monthly_refund_kopecks(*, charge_key: str, from_day: dt.date) -> int:
    """The billing run's refund rule: ``charged * unused_days / billed_days`` rounded down, where the
    billed days run from the charge's value date (first billed day) to the month's end and the unused
    ones from ``from_day`` (never before the first billed day) to the month's end."""
    row = LedgerTransfer.objects.filter(key=charge_key).values_list("amount_kopecks", "value_date").first()
    if row is None:
        return 0
    charged, first_billed = row
    last = month_end(first_billed)
    if from_day > last:
        return 0
    unused = (last - max(from_day, first_billed)).days + 1
    billed = (last - first_billed).days + 1
    return charged * unused // billed


def _unused_refund_kopecks(*, subscription: Subscription, from_day: dt.date) -> int:
    """What comes back when service stops before ``from_day``: the monthly fee's paid days from
    ``from_day`` on, or the daily fee already charged for ``from_day``."""
    key = _period_charge_key(subscription_id=subscription.pk, period=subscription.period, day=from_day)
    if subscription.period == Period.DAY:
        return _charged(key)
    return _monthly_refund_kopecks(charge_key=key, from_day=from_day)


@in_operator_language
def _option_charge_description(*, name: str, period: str, day: dt.date) -> str:
    if period == Option.OptionPeriod.ONCE:
        return _("Опция «%(name)s», разово") % {"name": name}
    if period == Option.OptionPeriod.MONTH:
        return _("Опция «%(name)s» за %(month)s (с %(date)s)") % {
            "name": name,
            "month": month_words(day),
            "date": day.strftime("%d.%m"),
        }
    return _("Опция «%(name)s» за %(date)s") % {"name": name, "date": day.strftime("%d.%m.%Y")}


def _refund_key(*, prefix: str, period: str, from_day: dt.date) -> str:
    if period == Period.DAY:
        return f"refund:{prefix}:{from_day.isoformat()}"
    return f"refund:{prefix}:{month_key(from_day)}"


@in_operator_language
def _refund_words(*, option: bool, name: str, period: str, from_day: dt.date) -> str:
    """«Перерасчёт абонентской платы по тарифу «…» за ноябрь 2026: не использовано с 20.11.2026», as the run."""
    fmt = {"name": name, "month": month_words(from_day), "date": from_day.strftime("%d.%m.%Y")}
    if period == Period.DAY:
        if option:
            return _("Перерасчёт платы за опцию «%(name)s» за %(date)s") % fmt
        return _("Перерасчёт абонентской платы по тарифу «%(name)s» за %(date)s") % fmt
    if option:
        return _("Перерасчёт платы за опцию «%(name)s» за %(month)s: не использовано с %(date)s") % fmt
    return (
        _("Перерасчёт абонентской платы по тарифу «%(name)s» за %(month)s: не использовано с %(date)s") % fmt
    )


def _price_for(*, tariff: Tariff, day: dt.date, bundle: Bundle | None) -> int:
    price = tariff_price_on(tariff=tariff, day=day)
    if price is None:
        raise DomainError(_("У тарифа «%(name)s» нет цены на эту дату.") % {"name": tariff.name})
    if bundle is not None:
        price = bundle_price_kopecks(bundle=bundle, price_kopecks=price)
    return price


def _bundle_of(subscription: Subscription) -> Bundle | None:
    membership = BundleMembership.objects.filter(subscription=subscription).select_related("bundle").first()
    return membership.bundle if membership else None


def _lock_subscription(subscription: Subscription) -> tuple[PersonalAccount, Subscription]:
    account = personal_account_lock(personal_account_id=subscription.personal_account_id)
    fresh = Subscription.objects.select_related("tariff").get(pk=subscription.pk)
    return account, fresh


# --------------------------------------------------------------------------------------------------
# Connect and disconnect


@dataclass(frozen=True)
class ConnectQuote:
    tariff_id: int
    tariff_name: str
    price_kopecks: int
    period: str
    charge_now_kopecks: int
    explanation: str
    consent_text: str
    # What is missing on the account for today's charge (0: enough); the change is refused until paid.
    shortfall_kopecks: int = 0


def subscription_connect_quote(
    *, personal_account: PersonalAccount, tariff: Tariff, bundle: Bundle | None = None
) -> ConnectQuote:
    """Price and first charge of connecting ``tariff``; raises DomainError when it is not allowed."""
    today = _today()
    _check_connect(account=personal_account, tariff=tariff, bundle=bundle)
    price = _price_for(tariff=tariff, day=today, bundle=bundle)
    first = _first_charge_kopecks(price_kopecks=price, period=tariff.period, day=today)
    if tariff.period == Period.DAY:
        explanation = _(
            "Тариф «%(name)s»: %(price)s в сутки. Сегодня спишется %(first)s, дальше — каждый день."
        ) % {"name": tariff.name, "price": format_kopecks(price), "first": format_kopecks(first)}
    else:
        explanation = _(
            "Тариф «%(name)s»: %(price)s в месяц. Сегодня спишется %(first)s — плата за %(days)s дн. до конца "
            "месяца; с %(next)s — полная плата первого числа каждого месяца."
        ) % {
            "name": tariff.name,
            "price": format_kopecks(price),
            "first": format_kopecks(first),
            "days": days_to_month_end(today),
            "next": date_words(next_month_start(today), today=today),
        }
    consent = _(
        "Я согласен подключить тариф «%(name)s» за %(price)s %(per)s и списание %(first)s сегодня."
    ) % {
        "name": tariff.name,
        "price": format_kopecks(price),
        "per": _per_period(tariff.period),
        "first": format_kopecks(first),
    }
    shortfall = _shortfall_kopecks(account=personal_account, amount_kopecks=first)
    if shortfall:
        explanation += " " + _shortfall_words(shortfall)
    return ConnectQuote(
        shortfall_kopecks=shortfall,
        tariff_id=tariff.pk,
        tariff_name=tariff.name,
        price_kopecks=price,
        period=tariff.period,
        charge_now_kopecks=first,
        explanation=explanation,
        consent_text=consent,
    )


def _check_connect(*, account: PersonalAccount, tariff: Tariff, bundle: Bundle | None) -> None:
    _ensure_active(account)
    if tariff.service_kind != account.service_kind:
        raise DomainError(
            _("Тариф «%(name)s» относится к другой услуге и не подключается на этот лицевой счёт.")
            % {"name": tariff.name},
            code="wrong_service",
        )
    if tariff.status != Tariff.Status.AVAILABLE:
        raise DomainError(
            _("Тариф «%(name)s» архивный и больше не подключается.") % {"name": tariff.name},
            code="tariff_archived",
        )
    if bundle is not None and (not bundle.is_available or not bundle.tariffs.filter(pk=tariff.pk).exists()):
        raise DomainError(
            _("Тариф «%(name)s» не входит в пакет «%(bundle)s».")
            % {"name": tariff.name, "bundle": bundle.name}
        )
    current = (
        Subscription.objects.filter(personal_account=account, status__in=_OPEN)
        .select_related("tariff")
        .first()
    )
    if current is not None:
        raise Conflict(
            _(
                "На этом лицевом счёте уже подключён тариф «%(name)s»: смените тариф вместо подключения нового."
            )
            % {"name": current.tariff.name},
            code="already_connected",
        )


def subscription_connect(
    *,
    actor: Any,
    personal_account: PersonalAccount,
    tariff: Tariff,
    consent_given: bool,
    consent_text: str,
    bundle: Bundle | None = None,
    ip: str | None = None,
    user_agent: str = "",
) -> Subscription:
    """Connect ``tariff`` on the account from today and charge the first period at once (a day's fee, or
    the rest of the month prorated) under the billing run's own key, so the run does not charge it again."""
    _ensure_can_manage(actor=actor, personal_account=personal_account)
    _require_consent(consent_given=consent_given, consent_text=consent_text)
    today = _today()
    with transaction.atomic():
        account = personal_account_lock(personal_account_id=personal_account.pk)
        _check_connect(account=account, tariff=tariff, bundle=bundle)
        price = _price_for(tariff=tariff, day=today, bundle=bundle)
        first = _first_charge_kopecks(price_kopecks=price, period=tariff.period, day=today)
        _ensure_funds(account=account, amount_kopecks=first)
        subscription = Subscription.objects.create(
            personal_account=account,
            tariff=tariff,
            status=Subscription.Status.ACTIVE,
            started_on=today,
            price_kopecks=price,
            period=tariff.period,
        )
        if bundle is not None:
            BundleMembership.objects.create(subscription=subscription, bundle=bundle)
        _charge(
            account=account,
            key=_period_charge_key(subscription_id=subscription.pk, period=tariff.period, day=today),
            amount_kopecks=first,
            value_date=today,
            description=_fee_description(
                tariff_name=tariff.name,
                period=tariff.period,
                day=today,
                days=days_to_month_end(today) if tariff.period == Period.MONTH else None,
            ),
            subscription=subscription,
            actor=actor,
        )
        _consent_write(
            actor=actor,
            personal_account=account,
            action=ConsentRecord.Action.CONNECT,
            subject=_("Тариф «%(name)s», %(price)s %(per)s")
            % {"name": tariff.name, "price": format_kopecks(price), "per": _per_period(tariff.period)},
            price_kopecks=price,
            text=consent_text,
            target=f"subscription:{subscription.pk}",
            ip=ip,
            user_agent=user_agent,
        )
        audit_log(
            actor=actor,
            action="subscription.connect",
            target=subscription,
            new={"tariff": tariff.code, "price_kopecks": price, "first_charge_kopecks": first},
            ip=ip,
        )
    return subscription


def subscription_disconnect(
    *, actor: Any, subscription: Subscription, reason: str = "", ip: str | None = None
) -> Subscription:
    """Switch the service off: today is the last day of service; a monthly fee's days after today come
    back at once (``refund:<id>:<YYYY-MM>``, the run's key and rule); options end with it. A daily fee is
    not refunded."""
    _ensure_can_manage(actor=actor, personal_account=subscription.personal_account)
    today = _today()
    with transaction.atomic():
        account, sub = _lock_subscription(subscription)
        if sub.status not in _OPEN:
            raise Conflict(_("Эта услуга уже отключена."), code="already_ended")
        if account.status == PersonalAccount.Status.TERMINATED:
            raise DomainError(_("Лицевой счёт закрыт."), code="account_not_active")
        tomorrow = today + dt.timedelta(days=1)
        refund = _unused_refund_kopecks(subscription=sub, from_day=tomorrow)
        _refund(
            account=account,
            key=_refund_key(prefix=str(sub.pk), period=sub.period, from_day=tomorrow),
            amount_kopecks=refund,
            value_date=today,
            description=_refund_words(
                option=False, name=sub.tariff.name, period=sub.period, from_day=tomorrow
            ),
            subscription=sub,
            actor=actor,
        )
        for sub_option in SubscriptionOption.objects.filter(
            subscription=sub, status=SubscriptionOption.Status.ACTIVE
        ).select_related("option"):
            _option_end(account=account, sub_option=sub_option, today=today, actor=actor)
        old = {"status": sub.status, "next_tariff": sub.next_tariff_id}
        sub.status = Subscription.Status.ENDED
        sub.ended_on = today
        sub.next_tariff = None
        sub.next_tariff_from = None
        sub.save(update_fields=["status", "ended_on", "next_tariff", "next_tariff_from", "updated_at"])
        audit_log(
            actor=actor,
            action="subscription.disconnect",
            target=sub,
            old=old,
            new={"status": sub.status, "ended_on": today.isoformat(), "refund_kopecks": refund},
            reason=reason,
            ip=ip,
        )
    return sub


# --------------------------------------------------------------------------------------------------
# Tariff change


@dataclass(frozen=True)
class TariffChangeQuote:
    subscription_id: int
    old_tariff_name: str
    new_tariff_id: int
    new_tariff_name: str
    when: str
    effective_on: dt.date
    new_price_kopecks: int
    period: str
    refund_kopecks: int
    charge_kopecks: int
    # charge - refund: positive means money leaves the account today.
    total_kopecks: int
    ended_options: list[str] = field(default_factory=list)
    explanation: str = ""
    consent_text: str = ""
    # What is missing on the account for today's net charge (0: enough).
    shortfall_kopecks: int = 0


def _check_change(*, account: PersonalAccount, sub: Subscription, new_tariff: Tariff, when: str) -> None:
    if when not in (NOW, NEXT_PERIOD):
        raise DomainError(_("Выберите, когда сменить тариф: сейчас или со следующего периода."), field="when")
    _ensure_active(account)
    if sub.status != Subscription.Status.ACTIVE:
        raise DomainError(
            _("Тариф можно сменить только у подключённой услуги."), code="subscription_not_active"
        )
    if new_tariff.service_kind != sub.tariff.service_kind:
        raise DomainError(
            _("Тариф «%(name)s» относится к другой услуге.") % {"name": new_tariff.name}, code="wrong_service"
        )
    if new_tariff.pk == sub.tariff_id:
        raise DomainError(_("Этот тариф уже подключён."), code="same_tariff")
    if new_tariff.status != Tariff.Status.AVAILABLE:
        raise DomainError(
            _("Тариф «%(name)s» архивный и больше не подключается.") % {"name": new_tariff.name},
            code="tariff_archived",
        )
    if not sub.tariff.switchable_to.filter(pk=new_tariff.pk).exists():
        raise DomainError(
            _("С тарифа «%(old)s» нельзя перейти на «%(new)s».")
            % {"old": sub.tariff.name, "new": new_tariff.name},
            code="tariff_not_allowed",
        )


def _effective_on(*, sub: Subscription, when: str, today: dt.date) -> dt.date:
    if when == NOW:
        return today
    if sub.period == Period.DAY:
        return today + dt.timedelta(days=1)
    return next_month_start(today)


def _incompatible_options(*, sub: Subscription, new_tariff: Tariff) -> list[SubscriptionOption]:
    return [
        so
        for so in SubscriptionOption.objects.filter(
            subscription=sub, status=SubscriptionOption.Status.ACTIVE
        ).select_related("option")
        if not option_is_compatible(option=so.option, tariff=new_tariff)
    ]


def _option_unused_refund(*, sub_option: SubscriptionOption, from_day: dt.date) -> int:
    """A paid option's unused part from ``from_day`` on (monthly: the run's rule; daily: that day's fee)."""
    if sub_option.period == Option.OptionPeriod.MONTH:
        return _monthly_refund_kopecks(
            charge_key=f"charge:opt:{sub_option.pk}:{month_key(from_day)}", from_day=from_day
        )
    if sub_option.period == Option.OptionPeriod.DAY:
        return _charged(f"charge:opt:{sub_option.pk}:{from_day.isoformat()}")
    return 0


def _change_amounts(
    *, sub: Subscription, new_tariff: Tariff, when: str, today: dt.date
) -> tuple[int, int, int, list[SubscriptionOption]]:
    """(new price, refund, charge, options that end) for a change."""
    bundle = _bundle_of(sub)
    if bundle is not None and not bundle.tariffs.filter(pk=new_tariff.pk).exists():
        bundle = None
    effective = _effective_on(sub=sub, when=when, today=today)
    new_price = _price_for(tariff=new_tariff, day=effective, bundle=bundle)
    ending = _incompatible_options(sub=sub, new_tariff=new_tariff)
    if when != NOW:
        return new_price, 0, 0, ending
    refund = _unused_refund_kopecks(subscription=sub, from_day=today)
    refund += sum(_option_unused_refund(sub_option=so, from_day=today) for so in ending)
    charge = _first_charge_kopecks(price_kopecks=new_price, period=new_tariff.period, day=today)
    return new_price, refund, charge, ending


def subscription_change_quote(
    *, subscription: Subscription, new_tariff: Tariff, when: str, actor: Any = None
) -> TariffChangeQuote:
    """What a tariff change costs, shown before confirming: refund of the unused part of the old fee,
    the prorated charge of the new one, and a plain Russian explanation. Raises DomainError if refused."""
    if actor is not None:
        _ensure_can_manage(actor=actor, personal_account=subscription.personal_account)
    today = _today()
    sub = Subscription.objects.select_related("tariff", "personal_account").get(pk=subscription.pk)
    account = sub.personal_account
    _check_change(account=account, sub=sub, new_tariff=new_tariff, when=when)
    new_price, refund, charge, ending = _change_amounts(
        sub=sub, new_tariff=new_tariff, when=when, today=today
    )
    effective = _effective_on(sub=sub, when=when, today=today)
    fmt = {
        "old": sub.tariff.name,
        "new": new_tariff.name,
        "price": format_kopecks(new_price),
        "per": _per_period(new_tariff.period),
        "date": date_words(effective, today=today),
        "refund": format_kopecks(refund),
        "charge": format_kopecks(charge),
        "days": days_to_month_end(today),
    }
    parts: list[str] = []
    if when == NOW:
        parts.append(_("Тариф сменится сегодня на «%(new)s» (%(price)s %(per)s).") % fmt)
        if refund:
            parts.append(_("Вернём %(refund)s за неиспользованные дни тарифа «%(old)s».") % fmt)
        if new_tariff.period == Period.MONTH:
            parts.append(_("Спишем %(charge)s за %(days)s дн. до конца месяца по новому тарифу.") % fmt)
        else:
            parts.append(_("Спишем %(charge)s за сегодня по новому тарифу.") % fmt)
        total = charge - refund
        if total > 0:
            parts.append(_("Итого сегодня спишется %(total)s.") % {"total": format_kopecks(total)})
        elif total < 0:
            parts.append(_("Итого на счёт вернётся %(total)s.") % {"total": format_kopecks(-total)})
        consent = (
            _(
                "Я согласен сменить тариф «%(old)s» на «%(new)s» (%(price)s %(per)s) сегодня; "
                "возврат %(refund)s, списание %(charge)s."
            )
            % fmt
        )
    else:
        parts.append(
            _("С %(date)s тариф сменится на «%(new)s»: %(price)s %(per)s. Сейчас ничего не списывается.")
            % fmt
        )
        parts.append(_("До этой даты смену можно отменить."))
        total = 0
        consent = _("Я согласен сменить тариф «%(old)s» на «%(new)s» (%(price)s %(per)s) с %(date)s.") % fmt
    if ending:
        parts.append(
            _("Отключатся опции, которые не работают на новом тарифе: %(names)s.")
            % {"names": ", ".join(f"«{so.option.name}»" for so in ending)}
        )
    shortfall = _shortfall_kopecks(account=account, amount_kopecks=total)
    if shortfall:
        parts.append(_shortfall_words(shortfall))
    return TariffChangeQuote(
        shortfall_kopecks=shortfall,
        subscription_id=sub.pk,
        old_tariff_name=sub.tariff.name,
        new_tariff_id=new_tariff.pk,
        new_tariff_name=new_tariff.name,
        when=when,
        effective_on=effective,
        new_price_kopecks=new_price,
        period=new_tariff.period,
        refund_kopecks=refund,
        charge_kopecks=charge,
        total_kopecks=total,
        ended_options=[so.option.name for so in ending],
        explanation=" ".join(parts),
        consent_text=consent,
    )


def subscription_change_tariff(
    *,
    actor: Any,
    subscription: Subscription,
    new_tariff: Tariff,
    when: str,
    consent_given: bool,
    consent_text: str,
    ip: str | None = None,
    user_agent: str = "",
) -> Subscription:
    """Change the tariff now or from the next period.

    ``now``: the old subscription ends yesterday (today if it started today); the unused part of its
    current fee from today on comes back (``refund:<old>:<YYYY-MM>``, or ``...:<YYYY-MM-DD>`` for today's
    daily fee);
    a new subscription starts today and is charged its first period prorated. Returns the new one.
    ``next_period``: sets next_tariff/next_tariff_from (the 1st of next month; tomorrow for a daily
    tariff); the billing run applies it on that date. Returns the same subscription.
    """
    _ensure_can_manage(actor=actor, personal_account=subscription.personal_account)
    _require_consent(consent_given=consent_given, consent_text=consent_text)
    today = _today()
    with transaction.atomic():
        account, sub = _lock_subscription(subscription)
        _check_change(account=account, sub=sub, new_tariff=new_tariff, when=when)
        new_price, refund, charge, ending = _change_amounts(
            sub=sub, new_tariff=new_tariff, when=when, today=today
        )
        if when == NEXT_PERIOD:
            effective = _effective_on(sub=sub, when=when, today=today)
            old = {"next_tariff": sub.next_tariff_id, "next_tariff_from": str(sub.next_tariff_from or "")}
            sub.next_tariff = new_tariff
            sub.next_tariff_from = effective
            sub.save(update_fields=["next_tariff", "next_tariff_from", "updated_at"])
            _consent_write(
                actor=actor,
                personal_account=account,
                action=ConsentRecord.Action.CHANGE_TARIFF_NEXT,
                subject=_("Смена тарифа на «%(new)s» с %(date)s, %(price)s %(per)s")
                % {
                    "new": new_tariff.name,
                    "date": effective.strftime("%d.%m.%Y"),
                    "price": format_kopecks(new_price),
                    "per": _per_period(new_tariff.period),
                },
                price_kopecks=new_price,
                text=consent_text,
                target=f"subscription:{sub.pk}",
                ip=ip,
                user_agent=user_agent,
            )
            audit_log(
                actor=actor,
                action="subscription.schedule_change",
                target=sub,
                old=old,
                new={"next_tariff": new_tariff.pk, "next_tariff_from": effective.isoformat()},
                ip=ip,
            )
            return sub

        _ensure_funds(account=account, amount_kopecks=charge - refund)
        bundle = _bundle_of(sub)
        if bundle is not None and not bundle.tariffs.filter(pk=new_tariff.pk).exists():
            bundle = None
        # The old subscription: refund the unused part, end it.
        _refund(
            account=account,
            key=_refund_key(prefix=str(sub.pk), period=sub.period, from_day=today),
            amount_kopecks=_unused_refund_kopecks(subscription=sub, from_day=today),
            value_date=today,
            description=_refund_words(option=False, name=sub.tariff.name, period=sub.period, from_day=today),
            subscription=sub,
            actor=actor,
        )
        for so in ending:
            _option_end(account=account, sub_option=so, today=today, actor=actor, refund_from=today)
        sub.status = Subscription.Status.ENDED
        sub.ended_on = max(today - dt.timedelta(days=1), sub.started_on)
        sub.next_tariff = None
        sub.next_tariff_from = None
        sub.save(update_fields=["status", "ended_on", "next_tariff", "next_tariff_from", "updated_at"])
        # The new subscription, charged for the rest of the period.
        new_sub = Subscription.objects.create(
            personal_account=account,
            tariff=new_tariff,
            status=Subscription.Status.ACTIVE,
            started_on=today,
            price_kopecks=new_price,
            period=new_tariff.period,
        )
        if bundle is not None:
            BundleMembership.objects.create(subscription=new_sub, bundle=bundle)
        SubscriptionOption.objects.filter(subscription=sub, status=SubscriptionOption.Status.ACTIVE).update(
            subscription=new_sub
        )
        _charge(
            account=account,
            key=_period_charge_key(subscription_id=new_sub.pk, period=new_tariff.period, day=today),
            amount_kopecks=charge,
            value_date=today,
            description=_fee_description(
                tariff_name=new_tariff.name,
                period=new_tariff.period,
                day=today,
                days=days_to_month_end(today) if new_tariff.period == Period.MONTH else None,
            ),
            subscription=new_sub,
            actor=actor,
        )
        _consent_write(
            actor=actor,
            personal_account=account,
            action=ConsentRecord.Action.CHANGE_TARIFF_NOW,
            subject=_("Смена тарифа «%(old)s» на «%(new)s» сегодня, %(price)s %(per)s")
            % {
                "old": sub.tariff.name,
                "new": new_tariff.name,
                "price": format_kopecks(new_price),
                "per": _per_period(new_tariff.period),
            },
            price_kopecks=charge - refund,
            text=consent_text,
            target=f"subscription:{new_sub.pk}",
            ip=ip,
            user_agent=user_agent,
        )
        audit_log(
            actor=actor,
            action="subscription.change_tariff",
            target=new_sub,
            old={"subscription": sub.pk, "tariff": sub.tariff.code, "price_kopecks": sub.price_kopecks},
            new={
                "tariff": new_tariff.code,
                "price_kopecks": new_price,
                "refund_kopecks": refund,
                "charge_kopecks": charge,
            },
            ip=ip,
        )
    return new_sub


def subscription_cancel_scheduled_change(
    *, actor: Any, subscription: Subscription, ip: str | None = None
) -> Subscription:
    """Cancel a tariff change scheduled from the next period, until it takes effect."""
    _ensure_can_manage(actor=actor, personal_account=subscription.personal_account)
    today = _today()
    with transaction.atomic():
        _account, sub = _lock_subscription(subscription)
        if sub.next_tariff_id is None or sub.next_tariff_from is None:
            raise DomainError(_("Запланированной смены тарифа нет."), code="nothing_scheduled")
        if sub.next_tariff_from <= today or sub.status == Subscription.Status.ENDED:
            raise Conflict(
                _("Смена тарифа уже вступила в силу, отменить её нельзя."), code="already_effective"
            )
        old = {"next_tariff": sub.next_tariff_id, "next_tariff_from": sub.next_tariff_from.isoformat()}
        sub.next_tariff = None
        sub.next_tariff_from = None
        sub.save(update_fields=["next_tariff", "next_tariff_from", "updated_at"])
        audit_log(
            actor=actor,
            action="subscription.cancel_scheduled_change",
            target=sub,
            old=old,
            new={"next_tariff": None},
            ip=ip,
        )
    return sub


# --------------------------------------------------------------------------------------------------
# Options


@dataclass(frozen=True)
class OptionQuote:
    option_id: int
    option_name: str
    price_kopecks: int
    period: str
    charge_now_kopecks: int
    explanation: str
    consent_text: str
    shortfall_kopecks: int = 0


def _check_option(*, account: PersonalAccount, sub: Subscription, option: Option) -> None:
    _ensure_active(account)
    if sub.status != Subscription.Status.ACTIVE:
        raise DomainError(
            _("Опции подключаются только к действующей услуге."), code="subscription_not_active"
        )
    if option.service_kind != sub.tariff.service_kind:
        raise DomainError(
            _("Опция «%(name)s» относится к другой услуге.") % {"name": option.name}, code="wrong_service"
        )
    if not option.is_available:
        raise DomainError(
            _("Опция «%(name)s» больше не подключается.") % {"name": option.name}, code="option_unavailable"
        )
    if not option_is_compatible(option=option, tariff=sub.tariff):
        raise DomainError(
            _("Опция «%(name)s» не подключается на тарифе «%(tariff)s».")
            % {"name": option.name, "tariff": sub.tariff.name},
            code="option_incompatible",
        )
    if (
        option.period != Option.OptionPeriod.ONCE
        and SubscriptionOption.objects.filter(
            subscription=sub, option=option, status=SubscriptionOption.Status.ACTIVE
        ).exists()
    ):
        raise Conflict(_("Опция «%(name)s» уже подключена.") % {"name": option.name}, code="option_active")


def _option_first_charge(*, price: int, period: str, today: dt.date) -> int:
    if period == Option.OptionPeriod.MONTH:
        return prorate_kopecks(
            price_kopecks=price, days=days_to_month_end(today), days_in_month=days_in_month(today)
        )
    return price


def subscription_option_quote(*, subscription: Subscription, option: Option) -> OptionQuote:
    today = _today()
    sub = Subscription.objects.select_related("tariff", "personal_account").get(pk=subscription.pk)
    _check_option(account=sub.personal_account, sub=sub, option=option)
    price = option_price_on(option=option, day=today)
    if price is None:
        raise DomainError(_("У опции «%(name)s» нет цены.") % {"name": option.name})
    first = _option_first_charge(price=price, period=option.period, today=today)
    fmt = {
        "name": option.name,
        "price": format_kopecks(price),
        "per": _per_period(option.period),
        "first": format_kopecks(first),
        "days": days_to_month_end(today),
    }
    if price == 0:
        explanation = _("Опция «%(name)s» бесплатна.") % fmt
    elif option.period == Option.OptionPeriod.ONCE:
        explanation = _("Опция «%(name)s»: %(price)s разово, спишется сразу.") % fmt
    elif option.period == Option.OptionPeriod.MONTH:
        explanation = (
            _(
                "Опция «%(name)s»: %(price)s в месяц. Сегодня спишется %(first)s за %(days)s дн. до конца месяца."
            )
            % fmt
        )
    else:
        explanation = _("Опция «%(name)s»: %(price)s в сутки, сегодня спишется %(first)s.") % fmt
    consent = (
        _("Я согласен подключить опцию «%(name)s» за %(price)s %(per)s и списание %(first)s сегодня.") % fmt
    )
    shortfall = _shortfall_kopecks(account=sub.personal_account, amount_kopecks=first)
    if shortfall:
        explanation += " " + _shortfall_words(shortfall)
    return OptionQuote(
        shortfall_kopecks=shortfall,
        option_id=option.pk,
        option_name=option.name,
        price_kopecks=price,
        period=option.period,
        charge_now_kopecks=first,
        explanation=explanation,
        consent_text=consent,
    )


def subscription_option_enable(
    *,
    actor: Any,
    subscription: Subscription,
    option: Option,
    consent_given: bool,
    consent_text: str,
    ip: str | None = None,
    user_agent: str = "",
) -> SubscriptionOption:
    """Switch an option on. Its first period is charged now: ``charge:opt:<id>:once`` for a one-time
    option, ``charge:opt:<id>:<YYYY-MM>`` (prorated) for a monthly one, ``...:<YYYY-MM-DD>`` for a daily one."""
    _ensure_can_manage(actor=actor, personal_account=subscription.personal_account)
    today = _today()
    with transaction.atomic():
        account, sub = _lock_subscription(subscription)
        _check_option(account=account, sub=sub, option=option)
        price = option_price_on(option=option, day=today)
        if price is None:
            raise DomainError(_("У опции «%(name)s» нет цены.") % {"name": option.name})
        if price > 0:
            _require_consent(consent_given=consent_given, consent_text=consent_text)
        first = _option_first_charge(price=price, period=option.period, today=today)
        _ensure_funds(account=account, amount_kopecks=first)
        sub_option = SubscriptionOption.objects.create(
            subscription=sub,
            option=option,
            status=SubscriptionOption.Status.ACTIVE,
            started_on=today,
            price_kopecks=price,
            period=option.period,
        )
        if option.period == Option.OptionPeriod.ONCE:
            key = f"charge:opt:{sub_option.pk}:once"
        elif option.period == Option.OptionPeriod.MONTH:
            key = f"charge:opt:{sub_option.pk}:{month_key(today)}"
        else:
            key = f"charge:opt:{sub_option.pk}:{today.isoformat()}"
        description = _option_charge_description(name=option.name, period=option.period, day=today)
        _charge(
            account=account,
            key=key,
            amount_kopecks=first,
            value_date=today,
            description=description,
            subscription=sub,
            actor=actor,
        )
        if consent_given:
            _consent_write(
                actor=actor,
                personal_account=account,
                action=ConsentRecord.Action.OPTION_ENABLE,
                subject=_("Опция «%(name)s», %(price)s %(per)s")
                % {"name": option.name, "price": format_kopecks(price), "per": _per_period(option.period)},
                price_kopecks=price,
                text=consent_text,
                target=f"option:{sub_option.pk}",
                ip=ip,
                user_agent=user_agent,
            )
        audit_log(
            actor=actor,
            action="subscription.option_enable",
            target=sub_option,
            new={"option": option.code, "price_kopecks": price, "charged_kopecks": first},
            ip=ip,
        )
    return sub_option


def _option_end(
    *,
    account: PersonalAccount,
    sub_option: SubscriptionOption,
    today: dt.date,
    actor: Any,
    refund_from: dt.date | None = None,
) -> int:
    """End an option today; refund a monthly option's paid days after today (or from ``refund_from``)."""
    from_day = refund_from or today + dt.timedelta(days=1)
    refund = _option_unused_refund(sub_option=sub_option, from_day=from_day)
    _refund(
        account=account,
        key=_refund_key(prefix=f"opt:{sub_option.pk}", period=sub_option.period, from_day=from_day),
        amount_kopecks=refund,
        value_date=today,
        description=_refund_words(
            option=True, name=sub_option.option.name, period=sub_option.period, from_day=from_day
        ),
        subscription=sub_option.subscription,
        actor=actor,
    )
    sub_option.status = SubscriptionOption.Status.ENDED
    sub_option.ended_on = today
    sub_option.save(update_fields=["status", "ended_on", "updated_at"])
    audit_log(
        actor=actor,
        action="subscription.option_disable",
        target=sub_option,
        old={"status": SubscriptionOption.Status.ACTIVE},
        new={"status": SubscriptionOption.Status.ENDED, "refund_kopecks": refund},
    )
    return refund


def subscription_option_disable(
    *, actor: Any, subscription_option: SubscriptionOption, ip: str | None = None
) -> SubscriptionOption:
    """Switch an option off today; a monthly option's paid days after today come back
    (``refund:opt:<id>:<YYYY-MM>``, the run's key and rule). Daily and one-time options are not refunded."""
    sub = Subscription.objects.select_related("personal_account").get(pk=subscription_option.subscription_id)
    _ensure_can_manage(actor=actor, personal_account=sub.personal_account)
    today = _today()
    with transaction.atomic():
        account = personal_account_lock(personal_account_id=sub.personal_account_id)
        fresh = SubscriptionOption.objects.select_related("option", "subscription").get(
            pk=subscription_option.pk
        )
        if fresh.status != SubscriptionOption.Status.ACTIVE:
            raise Conflict(_("Опция уже отключена."), code="already_ended")
        _option_end(account=account, sub_option=fresh, today=today, actor=actor)
    return fresh


# --------------------------------------------------------------------------------------------------
# Voluntary block


@dataclass(frozen=True)
class VoluntaryBlockQuote:
    allowed: bool
    # Why not, in words (empty when allowed).
    reason: str
    # The rule in plain words, always shown.
    rule_text: str
    available_from: dt.date | None
    min_days: int
    max_days: int
    fee_per_day_kopecks: int
    days: int | None = None
    total_fee_kopecks: int = 0
    consent_text: str = ""


def _block_fee_per_day(account: PersonalAccount) -> int:
    fees = Subscription.objects.filter(personal_account=account, status__in=_OPEN).values_list(
        "tariff__voluntary_block_fee_kopecks", flat=True
    )
    return int(sum(fees))


def voluntary_block_quote(
    *, personal_account: PersonalAccount, days: int | None = None, actor: Any = None
) -> VoluntaryBlockQuote:
    """Whether the account may start a voluntary block today, and the rule in plain words."""
    if actor is not None:
        _ensure_can_manage(actor=actor, personal_account=personal_account)
    account = PersonalAccount.objects.select_related("ledger_account").get(pk=personal_account.pk)
    return _block_eligibility(account=account, days=days, today=_today())


def _block_eligibility(*, account: PersonalAccount, days: int | None, today: dt.date) -> VoluntaryBlockQuote:
    min_days = settings.SUBSCRIPTIONS_VOLUNTARY_BLOCK_MIN_DAYS
    max_days = settings.SUBSCRIPTIONS_VOLUNTARY_BLOCK_MAX_DAYS
    gap = settings.SUBSCRIPTIONS_VOLUNTARY_BLOCK_GAP_DAYS
    fee = _block_fee_per_day(account)
    fee_words = _("плата %(fee)s в сутки") % {"fee": format_kopecks(fee)} if fee else _("бесплатно")
    rule = _(
        "Добровольная блокировка — от %(min)s до %(max)s дней, %(fee)s; абонентская плата за эти дни не "
        "списывается. Баланс при включении не должен быть отрицательным. Следующую можно включить не раньше "
        "чем через %(gap)s дней после окончания предыдущей."
    ) % {"min": min_days, "max": max_days, "fee": fee_words, "gap": gap}
    reason = ""
    available_from: dt.date | None = None
    if account.status == PersonalAccount.Status.BLOCKED_VOLUNTARY:
        reason = _("Добровольная блокировка уже включена.")
    elif account.status != PersonalAccount.Status.ACTIVE:
        reason = _("Добровольная блокировка доступна только для активного лицевого счёта.")
    elif not Subscription.objects.filter(
        personal_account=account, status=Subscription.Status.ACTIVE
    ).exists():
        reason = _("На лицевом счёте нет подключённых услуг.")
    else:
        last_end = (
            VoluntaryBlock.objects.filter(personal_account=account, status=VoluntaryBlock.Status.ENDED)
            .order_by("-ended_on")
            .values_list("ended_on", flat=True)
            .first()
        )
        if last_end is not None and last_end + dt.timedelta(days=gap) > today:
            available_from = last_end + dt.timedelta(days=gap)
            reason = _("Добровольная блокировка снова доступна с %(date)s.") % {
                "date": date_words(available_from, today=today)
            }
        elif account.ledger_account.balance_kopecks < 0:
            reason = _("Для добровольной блокировки баланс не должен быть отрицательным: пополните счёт.")
    if not reason and days is not None and not (min_days <= days <= max_days):
        reason = _("Срок блокировки — от %(min)s до %(max)s дней.") % {"min": min_days, "max": max_days}
    total = fee * days if days else 0
    consent = ""
    if days:
        consent = _(
            "Я согласен включить добровольную блокировку на %(days)s дн. с %(date)s; плата %(total)s."
        ) % {"days": days, "date": today.strftime("%d.%m.%Y"), "total": format_kopecks(total)}
    return VoluntaryBlockQuote(
        allowed=not reason,
        reason=reason,
        rule_text=rule,
        available_from=available_from,
        min_days=min_days,
        max_days=max_days,
        fee_per_day_kopecks=fee,
        days=days,
        total_fee_kopecks=total,
        consent_text=consent,
    )


def voluntary_block_start(
    *,
    actor: Any,
    personal_account: PersonalAccount,
    days: int,
    consent_given: bool = False,
    consent_text: str = "",
    ip: str | None = None,
    user_agent: str = "",
) -> VoluntaryBlock:
    """Block the account from today for ``days`` days (the last blocked day is today + days - 1).

    The account becomes ``blocked_voluntary`` and its subscriptions are suspended, so the billing run
    stops charging fees; ``voluntary_blocks_process`` charges the block's own fee per day instead
    (``vblock-fee:<block>:<YYYY-MM-DD>``) from the next day on. What was already charged for the current
    period stays charged. A paid block (fee > 0) needs consent."""
    _ensure_can_manage(actor=actor, personal_account=personal_account)
    today = _today()
    with transaction.atomic():
        account = personal_account_lock(personal_account_id=personal_account.pk)
        quote = _block_eligibility(account=account, days=days, today=today)
        if not quote.allowed:
            raise DomainError(quote.reason, code="voluntary_block_refused")
        if quote.fee_per_day_kopecks:
            _require_consent(consent_given=consent_given, consent_text=consent_text)
        block = VoluntaryBlock.objects.create(
            personal_account=account,
            starts_on=today,
            planned_end_on=today + dt.timedelta(days=days - 1),
            fee_per_day_kopecks=quote.fee_per_day_kopecks,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        Subscription.objects.filter(personal_account=account, status=Subscription.Status.ACTIVE).update(
            status=Subscription.Status.SUSPENDED
        )
        personal_account_set_status(
            personal_account=account,
            status=PersonalAccount.Status.BLOCKED_VOLUNTARY,
            reason=_("Добровольная блокировка до %(date)s")
            % {"date": block.planned_end_on.strftime("%d.%m.%Y")},
            actor=actor,
        )
        if consent_given and consent_text:
            _consent_write(
                actor=actor,
                personal_account=account,
                action=ConsentRecord.Action.VOLUNTARY_BLOCK,
                subject=_("Добровольная блокировка с %(start)s по %(end)s")
                % {"start": today.strftime("%d.%m.%Y"), "end": block.planned_end_on.strftime("%d.%m.%Y")},
                price_kopecks=quote.total_fee_kopecks,
                text=consent_text,
                target=f"voluntary_block:{block.pk}",
                ip=ip,
                user_agent=user_agent,
            )
        audit_log(
            actor=actor,
            action="voluntary_block.start",
            target=block,
            new={
                "starts_on": today.isoformat(),
                "planned_end_on": block.planned_end_on.isoformat(),
                "fee_per_day_kopecks": block.fee_per_day_kopecks,
            },
            ip=ip,
        )
    return block


def _block_finish(*, account: PersonalAccount, block: VoluntaryBlock, ended_on: dt.date, actor: Any) -> None:
    """Restore service on ``ended_on``: resume subscriptions and charge the resumed period at once under
    the billing run's key, if it is not paid yet (a daily fee for ``ended_on``; a monthly fee from
    ``ended_on`` to the month's end, prorated), so the day of the end is not lost to the run's timing."""
    block.status = VoluntaryBlock.Status.ENDED
    block.ended_on = ended_on
    block.save(update_fields=["status", "ended_on"])
    personal_account_set_status(
        personal_account=account,
        status=PersonalAccount.Status.ACTIVE,
        reason=_("Добровольная блокировка завершена"),
        actor=actor,
    )
    for sub in Subscription.objects.filter(
        personal_account=account, status=Subscription.Status.ACTIVE
    ).select_related("tariff"):
        key = _period_charge_key(subscription_id=sub.pk, period=sub.period, day=ended_on)
        if _charged(key):
            continue
        amount = _first_charge_kopecks(price_kopecks=sub.price_kopecks, period=sub.period, day=ended_on)
        _charge(
            account=account,
            key=key,
            amount_kopecks=amount,
            value_date=ended_on,
            description=_fee_description(
                tariff_name=sub.tariff.name,
                period=sub.period,
                day=ended_on,
                days=days_to_month_end(ended_on) if sub.period == Period.MONTH else None,
            ),
            subscription=sub,
            actor=actor,
        )
    audit_log(
        actor=actor,
        action="voluntary_block.end",
        target=block,
        old={"status": VoluntaryBlock.Status.ACTIVE},
        new={"status": VoluntaryBlock.Status.ENDED, "ended_on": ended_on.isoformat()},
    )


def voluntary_block_end(*, actor: Any, block: VoluntaryBlock, ip: str | None = None) -> VoluntaryBlock:
    """End a voluntary block early: service is back today."""
    _ensure_can_manage(actor=actor, personal_account=block.personal_account)
    today = _today()
    with transaction.atomic():
        account = personal_account_lock(personal_account_id=block.personal_account_id)
        fresh = VoluntaryBlock.objects.get(pk=block.pk)
        if fresh.status != VoluntaryBlock.Status.ACTIVE:
            raise Conflict(_("Добровольная блокировка уже завершена."), code="already_ended")
        _block_finish(account=account, block=fresh, ended_on=today, actor=actor)
    return fresh


def _block_charge_day(*, account: PersonalAccount, block: VoluntaryBlock, day: dt.date) -> bool:
    if not block.fee_per_day_kopecks or not (block.starts_on < day <= block.planned_end_on):
        return False
    return _charge(
        account=account,
        key=f"vblock-fee:{block.pk}:{day.isoformat()}",
        amount_kopecks=block.fee_per_day_kopecks,
        value_date=day,
        description=stored_text(
            gettext_lazy("Плата за добровольную блокировку за %(date)s"), date=day.strftime("%d.%m.%Y")
        ),
        subscription=None,
        actor=None,
    )


def voluntary_blocks_process(*, day: dt.date | None = None) -> dict[str, int]:
    """Periodic (every night, before the billing run): end the blocks whose last day is before ``day``
    (service is back on the day after the last blocked day) and charge the block fee for ``day`` of the
    others (``vblock-fee:<block>:<YYYY-MM-DD>``, from the fee snapshot; the start day is paid by the
    normal fee already charged). Idempotent: a replay of the same day moves nothing."""
    day = day or _today()
    ended = charged = 0
    for block_id, account_id in VoluntaryBlock.objects.filter(
        status=VoluntaryBlock.Status.ACTIVE
    ).values_list("pk", "personal_account_id"):
        with transaction.atomic():
            account = personal_account_lock(personal_account_id=account_id)
            block = VoluntaryBlock.objects.get(pk=block_id)
            if block.status != VoluntaryBlock.Status.ACTIVE:
                continue
            if block.planned_end_on < day:
                _block_finish(
                    account=account,
                    block=block,
                    ended_on=block.planned_end_on + dt.timedelta(days=1),
                    actor=None,
                )
                ended += 1
            elif _block_charge_day(account=account, block=block, day=day):
                charged += 1
    return {"ended": ended, "charged": charged}


# --------------------------------------------------------------------------------------------------
# Promised payment


@dataclass(frozen=True)
class PromisedPaymentQuote:
    allowed: bool
    reason: str
    rule_text: str
    available_from: dt.date | None
    max_amount_kopecks: int
    term_days: int
    fee_kopecks: int
    # The last day of the credit if taken today.
    due_on: dt.date
    consent_text: str = ""


@dataclass(frozen=True)
class _Rule:
    rule: PromisedPaymentRule | None
    max_amount_kopecks: int
    term_days: int
    interval_days: int
    min_account_age_days: int
    fee_kopecks: int


def promised_payment_rule_for(*, personal_account: PersonalAccount) -> _Rule:
    rule = (
        PromisedPaymentRule.objects.filter(is_active=True)
        .filter(Q(service_kind=personal_account.service_kind) | Q(service_kind=""))
        .order_by("-service_kind", "-id")
        .first()
    )
    if rule is not None:
        return _Rule(
            rule=rule,
            max_amount_kopecks=rule.max_amount_kopecks,
            term_days=rule.term_days,
            interval_days=rule.interval_days,
            min_account_age_days=rule.min_account_age_days,
            fee_kopecks=rule.fee_kopecks,
        )
    default = settings.SUBSCRIPTIONS_PROMISED_PAYMENT_DEFAULT
    return _Rule(rule=None, **default)


def _promised_eligibility(*, account: PersonalAccount, today: dt.date) -> PromisedPaymentQuote:
    rule = promised_payment_rule_for(personal_account=account)
    fee_words = (
        _("бесплатно")
        if not rule.fee_kopecks
        else _("стоимость %(fee)s") % {"fee": format_kopecks(rule.fee_kopecks)}
    )
    rule_text = _(
        "Обещанный платёж — до %(max)s на %(term)s дн., %(fee)s, не чаще одного раза в %(interval)s дн. "
        "По окончании срока сумма списывается со счёта."
    ) % {
        "max": format_kopecks(rule.max_amount_kopecks),
        "term": rule.term_days,
        "fee": fee_words,
        "interval": rule.interval_days,
    }
    if rule.min_account_age_days:
        rule_text += " " + _("Доступен абонентам, которые пользуются услугами не меньше %(days)s дн.") % {
            "days": rule.min_account_age_days
        }
    reason = ""
    available_from: dt.date | None = None
    active = PromisedPayment.objects.filter(
        personal_account=account, status=PromisedPayment.Status.ACTIVE
    ).first()
    if account.status in (PersonalAccount.Status.BLOCKED_OPERATOR, PersonalAccount.Status.TERMINATED):
        reason = _("Обещанный платёж недоступен: лицевой счёт заблокирован оператором или закрыт.")
    elif account.status == PersonalAccount.Status.BLOCKED_VOLUNTARY:
        reason = _("Обещанный платёж недоступен во время добровольной блокировки.")
    elif active is not None:
        reason = _("Обещанный платёж уже взят и действует до %(date)s включительно.") % {
            "date": date_words(active.due_on, today=today)
        }
    else:
        last = (
            PromisedPayment.objects.filter(personal_account=account)
            .order_by("-taken_on")
            .values_list("taken_on", flat=True)
            .first()
        )
        since = Subscription.objects.filter(personal_account=account).aggregate(first=Min("started_on"))[
            "first"
        ]
        if last is not None and last + dt.timedelta(days=rule.interval_days) > today:
            available_from = last + dt.timedelta(days=rule.interval_days)
            reason = _("Обещанный платёж можно взять снова с %(date)s.") % {
                "date": date_words(available_from, today=today)
            }
        elif since is None:
            reason = _("Обещанный платёж доступен, когда на лицевом счёте подключена услуга.")
        elif since + dt.timedelta(days=rule.min_account_age_days) > today:
            available_from = since + dt.timedelta(days=rule.min_account_age_days)
            reason = _(
                "Обещанный платёж станет доступен с %(date)s: нужно пользоваться услугами не меньше %(days)s дн."
            ) % {
                "date": date_words(available_from, today=today),
                "days": rule.min_account_age_days,
            }
    due_on = today + dt.timedelta(days=rule.term_days - 1)
    consent = _(
        "Я беру обещанный платёж до %(max)s до %(date)s включительно; %(date_back)s эта сумма спишется со счёта."
    ) % {
        "max": format_kopecks(rule.max_amount_kopecks),
        "date": due_on.strftime("%d.%m.%Y"),
        "date_back": (due_on + dt.timedelta(days=1)).strftime("%d.%m.%Y"),
    }
    return PromisedPaymentQuote(
        allowed=not reason,
        reason=reason,
        rule_text=rule_text,
        available_from=available_from,
        max_amount_kopecks=rule.max_amount_kopecks,
        term_days=rule.term_days,
        fee_kopecks=rule.fee_kopecks,
        due_on=due_on,
        consent_text=consent,
    )


def promised_payment_quote(*, personal_account: PersonalAccount, actor: Any = None) -> PromisedPaymentQuote:
    """Whether the account may take a promised payment today, with the rule in plain words."""
    if actor is not None:
        _ensure_can_manage(actor=actor, personal_account=personal_account)
    account = PersonalAccount.objects.select_related("ledger_account").get(pk=personal_account.pk)
    return _promised_eligibility(account=account, today=_today())


def promised_payment_take(
    *,
    actor: Any,
    personal_account: PersonalAccount,
    consent_given: bool,
    consent_text: str,
    amount_kopecks: int | None = None,
    ip: str | None = None,
    user_agent: str = "",
) -> PromisedPayment:
    """Credit the account from ``credit:promised`` (key ``promised:<id>``) and unblock it if that makes
    the balance good; eligibility is checked under the account lock."""
    _ensure_can_manage(actor=actor, personal_account=personal_account)
    _require_consent(consent_given=consent_given, consent_text=consent_text)
    today = _today()
    with transaction.atomic():
        account = personal_account_lock(personal_account_id=personal_account.pk)
        quote = _promised_eligibility(account=account, today=today)
        if not quote.allowed:
            raise DomainError(quote.reason, code="promised_payment_refused")
        amount = quote.max_amount_kopecks if amount_kopecks is None else amount_kopecks
        if (
            not isinstance(amount, int)
            or isinstance(amount, bool)
            or not 100 <= amount <= quote.max_amount_kopecks
        ):
            raise DomainError(
                _("Сумма обещанного платежа — от 1 ₽ до %(max)s.")
                % {"max": format_kopecks(quote.max_amount_kopecks)},
                field="amount",
            )
        rule = promised_payment_rule_for(personal_account=account)
        promised = PromisedPayment.objects.create(
            personal_account=account,
            rule=rule.rule,
            amount_kopecks=amount,
            fee_kopecks=rule.fee_kopecks,
            taken_on=today,
            due_on=quote.due_on,
            user=actor if getattr(actor, "is_authenticated", False) else None,
        )
        ledger_transfer_post(
            key=f"promised:{promised.pk}",
            debit=ledger_account_system(code=PROMISED_CREDIT),
            credit=account.ledger_account,
            amount_kopecks=amount,
            kind=LedgerTransfer.Kind.PROMISED_PAYMENT,
            value_date=today,
            description=stored_text(
                gettext_lazy("Обещанный платёж до %(date)s"), date=quote.due_on.strftime("%d.%m.%Y")
            ),
            actor=actor,
        )
        _charge(
            account=account,
            key=f"promised-fee:{promised.pk}",
            amount_kopecks=rule.fee_kopecks,
            value_date=today,
            description=stored_text(gettext_lazy("Плата за обещанный платёж")),
            subscription=None,
            actor=actor,
        )
        _consent_write(
            actor=actor,
            personal_account=account,
            action=ConsentRecord.Action.PROMISED_PAYMENT,
            subject=_("Обещанный платёж %(amount)s до %(date)s")
            % {"amount": format_kopecks(amount), "date": quote.due_on.strftime("%d.%m.%Y")},
            price_kopecks=rule.fee_kopecks,
            text=consent_text,
            target=f"promised_payment:{promised.pk}",
            ip=ip,
            user_agent=user_agent,
        )
        audit_log(
            actor=actor,
            action="promised_payment.take",
            target=promised,
            new={"amount_kopecks": amount, "due_on": quote.due_on.isoformat()},
            ip=ip,
        )
        personal_account_unblock_if_paid(personal_account=account, actor=actor)
    return promised


def promised_payment_expire(*, day: dt.date | None = None) -> int:
    """Periodic (daily): take back every promised payment whose term has ended before ``day``
    (key ``promised-return:<id>``); then an account whose balance is below minus its credit limit is
    blocked for non-payment, as after a billing run. Returns the number returned."""
    day = day or _today()
    returned = 0
    for promised_id, account_id in PromisedPayment.objects.filter(
        status=PromisedPayment.Status.ACTIVE, due_on__lt=day
    ).values_list("pk", "personal_account_id"):
        with transaction.atomic():
            account = personal_account_lock(personal_account_id=account_id)
            promised = PromisedPayment.objects.get(pk=promised_id)
            if promised.status != PromisedPayment.Status.ACTIVE:
                continue
            return_day = promised.due_on + dt.timedelta(days=1)
            ledger_transfer_post(
                key=f"promised-return:{promised.pk}",
                debit=account.ledger_account,
                credit=ledger_account_system(code=PROMISED_CREDIT),
                amount_kopecks=promised.amount_kopecks,
                kind=LedgerTransfer.Kind.PROMISED_PAYMENT,
                value_date=return_day,
                description=stored_text(
                    gettext_lazy("Возврат обещанного платежа от %(date)s"),
                    date=promised.taken_on.strftime("%d.%m.%Y"),
                ),
            )
            promised.status = PromisedPayment.Status.RETURNED
            promised.returned_on = return_day
            promised.save(update_fields=["status", "returned_on"])
            audit_log(
                actor=None,
                action="promised_payment.return",
                target=promised,
                old={"status": PromisedPayment.Status.ACTIVE},
                new={"status": PromisedPayment.Status.RETURNED, "returned_on": return_day.isoformat()},
            )
            if (
                account.status == PersonalAccount.Status.ACTIVE
                and _balance(account) + account.credit_limit_kopecks < 0
            ):
                personal_account_set_status(
                    personal_account=account,
                    status=PersonalAccount.Status.BLOCKED_DEBT,
                    reason=_("Закончился срок обещанного платежа, баланс отрицательный"),
                )
            returned += 1
    return returned
