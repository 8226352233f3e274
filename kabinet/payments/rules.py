"""The operator's rules for card payments (its terms, section 3), read from the PaymentRules row.

Checks raise ``PaymentRefused`` (a DomainError with the form field it belongs to and a Russian message);
``payment_rules_describe`` says the same rules in plain sentences, shown BEFORE paying.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache

from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kabinet.billing.models import PersonalAccount
from kabinet.core.exceptions import DomainError
from kabinet.core.money import MoneyInputError, format_kopecks, rubles_to_kopecks
from kabinet.core.prepared import hot_cursor
from kabinet.core.sql_names import sql_column, sql_table
from kabinet.core.sql_rows import in_list, in_list_params, in_list_size, instance_get_or_create, row_reader
from kabinet.payments.acquirer.interface import CardInfo
from kabinet.payments.models import Payment, PaymentRules

# Statuses of a personal account in which service is stopped for a reason OTHER than non-payment: no
# internet payment is possible then (terms 3.3.2). Blocked for debt (non-payment) may pay, of course.
STOPPED_NOT_FOR_DEBT = frozenset(
    {
        PersonalAccount.Status.BLOCKED_VOLUNTARY,
        PersonalAccount.Status.BLOCKED_OPERATOR,
        PersonalAccount.Status.TERMINATED,
    }
)

BRAND_NAMES = {"MIR": "МИР", "VISA": "VISA", "MASTERCARD": "Mastercard", "MAESTRO": "Maestro"}
CARD_CLASS_NAMES = {
    "CLASSIC": "Classic",
    "GOLD": "Gold",
    "PLATINUM": "Platinum",
    "ELECTRON": "Electron",
    "PREPAID": "предоплаченные",
    "CORPORATE": "корпоративные",
}

# Payments that count against the per-period limit and occupy a card: everything not cancelled.
_COUNTED_STATUSES = (
    Payment.Status.CREATED,
    Payment.Status.PENDING,
    Payment.Status.WAITING_FOR_CAPTURE,
    Payment.Status.SUCCEEDED,
)


class PaymentRefused(DomainError):
    code = "payment_refused"


def payment_rules_get() -> PaymentRules:
    return instance_get_or_create(PaymentRules, pk=PaymentRules.SINGLETON_PK)  # type: ignore[no-any-return]


def _minutes(n: int) -> str:
    return ngettext("%(n)d минута", "%(n)d минут", n) % {"n": n}


def _days(n: int) -> str:
    return ngettext("%(n)d день", "%(n)d дней", n) % {"n": n}


def payment_rules_describe(rules: PaymentRules | None = None) -> list[str]:
    """The rules as plain Russian sentences, in the order a payer meets them."""
    rules = rules or payment_rules_get()
    lines = []
    if rules.whole_rubles_only:
        lines.append(_("Сумма — только целое число рублей, без копеек (например, 157 ₽)."))
    lines.append(
        _("Сумма одного платежа — от %(min)s до %(max)s.")
        % {"min": format_kopecks(rules.min_amount_kopecks), "max": format_kopecks(rules.max_amount_kopecks)}
    )
    if rules.period_limit_kopecks:
        lines.append(
            _("На один лицевой счёт картой можно внести не более %(limit)s за %(period)s.")
            % {"limit": format_kopecks(rules.period_limit_kopecks), "period": _days(rules.period_days)}
        )
    if rules.same_card_interval_minutes:
        lines.append(
            _(
                "С одной карты можно платить не чаще одного раза в %(interval)s: более ранний повторный "
                "платёж с той же карты будет отменён до списания денег."
            )
            % {"interval": _minutes(rules.same_card_interval_minutes)}
        )
    brands = PaymentRules.split(rules.allowed_card_brands)
    if brands:
        lines.append(
            _("Принимаются карты: %(brands)s.") % {"brands": ", ".join(BRAND_NAMES.get(b, b) for b in brands)}
        )
    countries = PaymentRules.split(rules.allowed_issuer_countries)
    if countries == ["RU"]:
        lines.append(_("Принимаются только карты, выпущенные российскими банками."))
    elif countries:
        lines.append(
            _("Принимаются только карты банков этих стран: %(countries)s.")
            % {"countries": ", ".join(countries)}
        )
    classes = PaymentRules.split(rules.blocked_card_classes)
    if classes:
        lines.append(
            _("Не принимаются карты класса: %(classes)s.")
            % {"classes": ", ".join(CARD_CLASS_NAMES.get(c, c) for c in classes)}
        )
    lines.append(_("Оплата невозможна, если на лицевом счёте включён запрет на приём наличных платежей."))
    lines.append(
        _(
            "Оплата невозможна, пока услуги приостановлены по любой причине, кроме неоплаты "
            "(добровольная блокировка, блокировка оператором, расторжение договора). "
            "Если услуги остановлены за неуплату — оплатите, и они возобновятся."
        )
    )
    lines.append(_("Комиссия не взимается."))
    return lines


def payment_amount_parse(*, amount: str | int | None, rules: PaymentRules) -> int:
    """A typed ruble amount to kopecks under the rules (field "amount")."""
    try:
        kopecks = rubles_to_kopecks(
            amount if amount is not None else "", whole_rubles=rules.whole_rubles_only
        )
    except MoneyInputError as exc:
        raise PaymentRefused(exc.message, code="invalid_amount", field="amount") from exc
    return kopecks


def payment_check_amount(*, amount_kopecks: int, rules: PaymentRules) -> None:
    if rules.whole_rubles_only and amount_kopecks % 100:
        raise PaymentRefused(
            _("Сумма должна быть в целых рублях, без копеек (например, 157)."),
            code="invalid_amount",
            field="amount",
        )
    if amount_kopecks < rules.min_amount_kopecks:
        raise PaymentRefused(
            _("Минимальная сумма платежа — %(min)s.") % {"min": format_kopecks(rules.min_amount_kopecks)},
            code="amount_too_small",
            field="amount",
        )
    if amount_kopecks > rules.max_amount_kopecks:
        raise PaymentRefused(
            _("Сумма одного платежа — не более %(max)s.") % {"max": format_kopecks(rules.max_amount_kopecks)},
            code="amount_too_large",
            field="amount",
        )


def payment_check_account(*, personal_account: PersonalAccount) -> None:
    """May this personal account receive an internet payment now? (field "personal_account")."""
    if personal_account.cash_payment_ban:
        raise PaymentRefused(
            _(
                "На этом лицевом счёте включён запрет на приём наличных платежей, поэтому оплата картой "
                "через интернет невозможна. Обратитесь в офис или по телефону горячей линии."
            ),
            code="cash_payment_ban",
            field="personal_account",
        )
    if personal_account.status in STOPPED_NOT_FOR_DEBT:
        raise PaymentRefused(
            _(
                "Оплата на этот лицевой счёт сейчас невозможна: услуги приостановлены (%(status)s). "
                "Интернет-платёж возможен, только если услуги остановлены за неуплату."
            )
            % {"status": personal_account.get_status_display().lower()},
            code="account_stopped",
            field="personal_account",
        )


def payment_check_period(
    *,
    personal_account: PersonalAccount,
    amount_kopecks: int,
    rules: PaymentRules,
    now: dt.datetime | None = None,
) -> None:
    if not rules.period_limit_kopecks:
        return
    since = (now or timezone.now()) - dt.timedelta(days=rules.period_days)
    paid = (
        Payment.objects.filter(
            personal_account=personal_account,
            method__in=(Payment.Method.CARD, Payment.Method.WALLET, Payment.Method.AUTOPAY),
            status__in=_COUNTED_STATUSES,
            created_at__gte=since,
        ).aggregate(total=Sum("amount_kopecks"))["total"]
        or 0
    )
    if paid + amount_kopecks > rules.period_limit_kopecks:
        left = max(rules.period_limit_kopecks - paid, 0)
        raise PaymentRefused(
            _(
                "Превышен лимит платежей картой на этот лицевой счёт: не более %(limit)s за %(period)s. "
                "Сейчас можно внести не более %(left)s."
            )
            % {
                "limit": format_kopecks(rules.period_limit_kopecks),
                "period": _days(rules.period_days),
                "left": format_kopecks(left),
            },
            code="period_limit",
            field="amount",
        )


_CARDS_PAID_SQL = (
    "SELECT {columns} FROM {payment} WHERE {fingerprint}{in_cards} AND {paid_at} > %s "
    "AND {status} IN (%s, %s, %s) AND NOT {pk}{in_others}"
)


@cache
def _cards_paid_sql(cards: int, others: int) -> str:
    return _CARDS_PAID_SQL.format(
        columns=row_reader(Payment).columns,
        payment=sql_table(Payment),
        fingerprint=sql_column(Payment, "card_fingerprint"),
        paid_at=sql_column(Payment, "paid_at"),
        status=sql_column(Payment, "status"),
        pk=sql_column(Payment, "id"),
        in_cards=in_list(cards),
        in_others=in_list(others),
    )


def cards_last_paid_at(
    *, fingerprints: Sequence[str], since: dt.datetime, other_than: Sequence[int]
) -> dict[str, dt.datetime]:
    """When each card last paid (authorised, captured or refunded) after ``since``, by fingerprint,
    payments ``other_than`` left out; cards that did not pay are left out. One hand-written statement for
    all the cards: it runs for every batch of card notifications."""
    cards = sorted(set(fingerprints))
    if not cards:
        return {}
    others = list(other_than) or [0]
    params = [
        *in_list_params(cards),
        connection.ops.adapt_datetimefield_value(since),
        Payment.Status.WAITING_FOR_CAPTURE.value,
        Payment.Status.SUCCEEDED.value,
        Payment.Status.REFUNDED.value,
        *in_list_params(others),
    ]
    with hot_cursor() as cursor:
        cursor.execute(_cards_paid_sql(in_list_size(len(cards)), in_list_size(len(others))), params)
        rows = cursor.fetchall()
    last: dict[str, dt.datetime] = {}
    reader = row_reader(Payment)
    for row in rows:
        paid = reader.instance(row)
        if paid.card_fingerprint not in last or paid.paid_at > last[paid.card_fingerprint]:
            last[paid.card_fingerprint] = paid.paid_at
    return last


def card_refusal(*, card: CardInfo, rules: PaymentRules, last_paid_at: dt.datetime | None) -> str:
    """Why this card may not pay ("" if it may), given when it last paid within the same-card interval
    (``cards_last_paid_at``; None if it did not). Checked after the payer confirmed the payment at the
    acquirer and before capture: a refusal cancels the payment, no money is taken."""
    brands = PaymentRules.split(rules.allowed_card_brands)
    if brands and card.brand not in brands:
        return _("Карты %(brand)s не принимаются. Принимаются: %(brands)s.") % {
            "brand": card.card_type or card.brand,
            "brands": ", ".join(BRAND_NAMES.get(b, b) for b in brands),
        }
    countries = PaymentRules.split(rules.allowed_issuer_countries)
    if countries and card.issuer_country.upper() not in countries:
        if countries == ["RU"]:
            return _(
                "Карта выпущена не российским банком (%(country)s): оплата такими картами не принимается."
            ) % {"country": card.issuer_country or "?"}
        return _("Карты банков страны %(country)s не принимаются.") % {"country": card.issuer_country or "?"}
    classes = PaymentRules.split(rules.blocked_card_classes)
    if classes and card.product_code.upper() in classes:
        return _("Карты класса «%(cls)s» не принимаются.") % {
            "cls": CARD_CLASS_NAMES.get(card.product_code.upper(), card.product_name or card.product_code)
        }
    if rules.same_card_interval_minutes and last_paid_at is not None:
        next_at = timezone.localtime(last_paid_at + dt.timedelta(minutes=rules.same_card_interval_minutes))
        return _(
            "С одной карты можно платить не чаще одного раза в %(interval)s. Предыдущий платёж с карты "
            "%(mask)s был в %(prev)s; следующий возможен после %(next)s. Деньги не списаны."
        ) % {
            "interval": _minutes(rules.same_card_interval_minutes),
            "mask": card.mask,
            "prev": timezone.localtime(last_paid_at).strftime("%H:%M"),
            "next": next_at.strftime("%H:%M"),
        }
    return ""
