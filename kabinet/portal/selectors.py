"""Reads composed for the subscriber's pages: the dashboard, the forecast, the account history.

Every function takes the user (or an account already fetched through the owner-filtered
``personal_account_get_for_user``) and runs a fixed number of queries whatever the number of accounts
or history lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kabinet.billing.forecast import Forecast, forecast_compute
from kabinet.billing.models import (
    LedgerAccount,
    LedgerTransfer,
    PersonalAccount,
    PersonalAccountLink,
    Subscription,
    SubscriptionOption,
)
from kabinet.billing.selectors import ledger_transfers_for_account, personal_account_list_for_user
from kabinet.catalog.models import Period, ServiceKind, Tariff
from kabinet.core.dates import next_month_start
from kabinet.core.exceptions import NotFound
from kabinet.core.prepared import hot_cursor
from kabinet.core.sql_names import sql_column, sql_table

# Subscriptions shown on a dashboard card and counted by the forecast.
_LIVE_SUBSCRIPTION_STATUSES = (Subscription.Status.ACTIVE, Subscription.Status.SUSPENDED)


def _subscriptions_prefetch() -> Prefetch:
    return Prefetch(
        "subscriptions",
        queryset=Subscription.objects.filter(status__in=_LIVE_SUBSCRIPTION_STATUSES)
        .select_related("tariff", "next_tariff")
        .prefetch_related(
            Prefetch(
                "options",
                queryset=SubscriptionOption.objects.filter(status=SubscriptionOption.Status.ACTIVE)
                .select_related("option")
                .order_by("id"),
                to_attr="active_options",
            )
        )
        .order_by("id"),
        to_attr="live_subscriptions",
    )


def personal_accounts_with_services_for_user(*, user: Any) -> QuerySet[PersonalAccount]:
    """The user's accounts with live subscriptions and their active options: 3 queries in all."""
    return (
        personal_account_list_for_user(user=user)
        .select_related("contract")
        .prefetch_related(_subscriptions_prefetch())
    )


def personal_account_with_services_for_user(*, user: Any, personal_account_id: int) -> PersonalAccount:
    """One of the user's accounts (404 for anyone else's) with its live subscriptions and options."""
    account = personal_accounts_with_services_for_user(user=user).filter(pk=personal_account_id).first()
    if account is None:
        raise NotFound(gettext("Лицевой счёт не найден."))
    return account


def _charges(subscriptions: Iterable[Subscription]) -> list[tuple[str, int]]:
    """(period, price) of every recurring charge of active subscriptions and their active options."""
    charges: list[tuple[str, int]] = []
    for sub in subscriptions:
        if sub.status != Subscription.Status.ACTIVE:
            continue
        charges.append((sub.period, sub.price_kopecks))
        for opt in getattr(sub, "active_options", ()):
            if opt.period in (Period.DAY, Period.MONTH):
                charges.append((opt.period, opt.price_kopecks))
    return charges


def forecast_for_account(
    *, personal_account: PersonalAccount, balance_kopecks: int | None = None, today: dt.date | None = None
) -> Forecast:
    """Forecast from prefetched subscriptions (``personal_accounts_with_services_for_user``): no queries."""
    if balance_kopecks is None:
        balance_kopecks = personal_account.ledger_account.balance_kopecks
    return forecast_compute(
        status=personal_account.status,
        balance_kopecks=balance_kopecks,
        credit_limit_kopecks=personal_account.credit_limit_kopecks,
        charges=_charges(getattr(personal_account, "live_subscriptions", ())),
        today=today or timezone.localdate(),
    )


@dataclass(frozen=True)
class CardAccount:
    """The personal account as the dashboard shows it (plain values, not a model instance)."""

    id: int
    number: str
    service_kind: str
    status: str
    status_reason: str
    credit_limit_kopecks: int
    address: str

    @property
    def pk(self) -> int:
        return self.id

    @property
    def service_label(self) -> str:
        return str(ServiceKind(self.service_kind).label)

    @property
    def status_label(self) -> str:
        return str(PersonalAccount.Status(self.status).label)


@dataclass(frozen=True)
class CardSubscription:
    id: int
    status: str
    period: str
    price_kopecks: int
    tariff_name: str
    # Sums of the active options' recurring prices by period (one-off options are not recurring).
    options_daily_kopecks: int
    options_monthly_kopecks: int

    def charges(self) -> list[tuple[str, int]]:
        if self.status != Subscription.Status.ACTIVE:
            return []
        charges = [(self.period, self.price_kopecks)]
        if self.options_daily_kopecks:
            charges.append((Period.DAY, self.options_daily_kopecks))
        if self.options_monthly_kopecks:
            charges.append((Period.MONTH, self.options_monthly_kopecks))
        return charges


@dataclass
class AccountCard:
    account: CardAccount
    balance_kopecks: int
    forecast: Forecast
    subscriptions: list[CardSubscription] = field(default_factory=list)

    @property
    def is_blocked(self) -> bool:
        return self.account.status in (
            PersonalAccount.Status.BLOCKED_DEBT,
            PersonalAccount.Status.BLOCKED_VOLUNTARY,
            PersonalAccount.Status.BLOCKED_OPERATOR,
        )

    @property
    def debt_to_unblock_kopecks(self) -> int:
        """For an account blocked for debt: what must be paid to get service back."""
        missing = -(self.balance_kopecks + self.account.credit_limit_kopecks)
        return max(missing, 0)

    @property
    def tariff_names(self) -> list[str]:
        return [sub.tariff_name for sub in self.subscriptions]


# The dashboard is the page every subscriber opens after login, so its read is one hand-written
# statement (accounts, balances, live subscriptions, tariff names and option sums), not three ORM
# queries: ORM query compilation cost more than the database work (see docs/benchmarks.md).
# Table and column names come from the models' metadata; values are always parameters.
_DASHBOARD_SQL = """
SELECT pa.{pa_id}, pa.{pa_number}, pa.{pa_kind}, pa.{pa_status}, pa.{pa_reason}, pa.{pa_credit},
       pa.{pa_address}, la.{la_balance},
       s.{s_id}, s.{s_status}, s.{s_period}, s.{s_price}, t.{t_name},
       (SELECT COALESCE(SUM(o.{o_price}), 0) FROM {options} o
         WHERE o.{o_sub} = s.{s_id} AND o.{o_status} = %s AND o.{o_period} = %s),
       (SELECT COALESCE(SUM(o.{o_price}), 0) FROM {options} o
         WHERE o.{o_sub} = s.{s_id} AND o.{o_status} = %s AND o.{o_period} = %s)
FROM {links} l
JOIN {accounts} pa ON pa.{pa_id} = l.{l_account}
JOIN {ledger} la ON la.{la_id} = pa.{pa_ledger}
LEFT JOIN {subscriptions} s ON s.{s_account} = pa.{pa_id} AND s.{s_status} IN (%s, %s)
LEFT JOIN {tariffs} t ON t.{t_id} = s.{s_tariff}
WHERE l.{l_user} = %s
ORDER BY pa.{pa_kind}, pa.{pa_number}, s.{s_id}
"""


@cache
def _dashboard_sql() -> str:
    col, table = sql_column, sql_table
    pa, s, o = PersonalAccount, Subscription, SubscriptionOption
    return _DASHBOARD_SQL.format(
        links=table(PersonalAccountLink),
        accounts=table(pa),
        ledger=table(LedgerAccount),
        subscriptions=table(s),
        tariffs=table(Tariff),
        options=table(o),
        l_account=col(PersonalAccountLink, "personal_account"),
        l_user=col(PersonalAccountLink, "user"),
        pa_id=col(pa, "id"),
        pa_number=col(pa, "number"),
        pa_kind=col(pa, "service_kind"),
        pa_status=col(pa, "status"),
        pa_reason=col(pa, "status_reason"),
        pa_credit=col(pa, "credit_limit_kopecks"),
        pa_address=col(pa, "address"),
        pa_ledger=col(pa, "ledger_account"),
        la_id=col(LedgerAccount, "id"),
        la_balance=col(LedgerAccount, "balance_kopecks"),
        s_id=col(s, "id"),
        s_status=col(s, "status"),
        s_period=col(s, "period"),
        s_price=col(s, "price_kopecks"),
        s_account=col(s, "personal_account"),
        s_tariff=col(s, "tariff"),
        t_id=col(Tariff, "id"),
        t_name=col(Tariff, "name"),
        o_price=col(o, "price_kopecks"),
        o_sub=col(o, "subscription"),
        o_status=col(o, "status"),
        o_period=col(o, "period"),
    )


def dashboard_cards_for_user(*, user: Any, today: dt.date | None = None) -> list[AccountCard]:
    """Every account of the user with balance, status, live subscriptions and forecast: one query
    whatever their number."""
    if not getattr(user, "is_authenticated", False):
        return []
    today = today or timezone.localdate()
    active_option = SubscriptionOption.Status.ACTIVE
    params = [active_option, Period.DAY, active_option, Period.MONTH, *_LIVE_SUBSCRIPTION_STATUSES, user.pk]
    with hot_cursor() as cursor:
        cursor.execute(_dashboard_sql(), params)
        rows = cursor.fetchall()
    cards: list[AccountCard] = []
    by_id: dict[int, tuple[CardAccount, int, list[CardSubscription]]] = {}
    for row in rows:
        account_id = row[0]
        if account_id not in by_id:
            account = CardAccount(
                id=account_id,
                number=row[1],
                service_kind=row[2],
                status=row[3],
                status_reason=row[4],
                credit_limit_kopecks=row[5],
                address=row[6],
            )
            by_id[account_id] = (account, row[7], [])
        if row[8] is not None:
            by_id[account_id][2].append(
                CardSubscription(
                    id=row[8],
                    status=row[9],
                    period=row[10],
                    price_kopecks=row[11],
                    tariff_name=row[12] or "",
                    options_daily_kopecks=int(row[13]),
                    options_monthly_kopecks=int(row[14]),
                )
            )
    for account, balance, subscriptions in by_id.values():
        charges = [charge for sub in subscriptions for charge in sub.charges()]
        cards.append(
            AccountCard(
                account=account,
                balance_kopecks=balance,
                forecast=forecast_compute(
                    status=account.status,
                    balance_kopecks=balance,
                    credit_limit_kopecks=account.credit_limit_kopecks,
                    charges=charges,
                    today=today,
                ),
                subscriptions=subscriptions,
            )
        )
    return cards


# --- History ----------------------------------------------------------------------------------------

HISTORY_PAGE_SIZE = 50

# Filter "kind" values offered on the history page -> ledger transfer kinds.
HISTORY_KINDS: dict[str, Sequence[str]] = {
    "charges": (LedgerTransfer.Kind.CHARGE,),
    "payments": (LedgerTransfer.Kind.PAYMENT,),
    "other": (
        LedgerTransfer.Kind.REFUND,
        LedgerTransfer.Kind.ADJUSTMENT,
        LedgerTransfer.Kind.REVERSAL,
        LedgerTransfer.Kind.PROMISED_PAYMENT,
        LedgerTransfer.Kind.BONUS,
    ),
}


@dataclass(frozen=True)
class HistoryFilter:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    kind: str = ""


@dataclass(frozen=True)
class HistoryLine:
    value_date: dt.date
    kind: str
    kind_label: str
    # Positive: money onto the account; negative: money off it.
    amount_kopecks: int
    reason: str


def history_queryset(
    *, personal_account: PersonalAccount, history_filter: HistoryFilter
) -> QuerySet[LedgerTransfer]:
    qs = ledger_transfers_for_account(personal_account=personal_account)
    if history_filter.date_from:
        qs = qs.filter(value_date__gte=history_filter.date_from)
    if history_filter.date_to:
        qs = qs.filter(value_date__lte=history_filter.date_to)
    kinds = HISTORY_KINDS.get(history_filter.kind)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs.only(
        "id",
        "value_date",
        "kind",
        "amount_kopecks",
        "description",
        "debit_account_id",
        "credit_account_id",
        "key",
    )


def history_line(transfer: LedgerTransfer, *, ledger_account_id: int) -> HistoryLine:
    sign = 1 if transfer.credit_account_id == ledger_account_id else -1
    return HistoryLine(
        value_date=transfer.value_date,
        kind=transfer.kind,
        kind_label=str(transfer.get_kind_display()),
        amount_kopecks=sign * transfer.amount_kopecks,
        reason=transfer.description or str(transfer.get_kind_display()),
    )


def history_page(
    *, personal_account: PersonalAccount, history_filter: HistoryFilter, page_number: Any = 1
) -> tuple[Page, list[HistoryLine]]:
    """One page of the history: 2 queries (count and slice)."""
    paginator = Paginator(
        history_queryset(personal_account=personal_account, history_filter=history_filter),
        HISTORY_PAGE_SIZE,
    )
    page = paginator.get_page(page_number)
    lines = [history_line(t, ledger_account_id=personal_account.ledger_account_id) for t in page.object_list]
    return page, lines


def history_lines_all(
    *, personal_account: PersonalAccount, history_filter: HistoryFilter, limit: int = 10_000
) -> list[HistoryLine]:
    """The statement for an export: one query, at most ``limit`` lines."""
    qs = history_queryset(personal_account=personal_account, history_filter=history_filter)[:limit]
    return [history_line(t, ledger_account_id=personal_account.ledger_account_id) for t in qs]


@dataclass(frozen=True)
class MonthSpending:
    month: dt.date
    charged_kopecks: int


def monthly_spending(
    *, personal_account: PersonalAccount, months: int = 12, today: dt.date | None = None
) -> list[MonthSpending]:
    """Charges (less their reversals) per calendar month for the last ``months`` months: one query."""
    today = today or timezone.localdate()
    start = today.replace(day=1)
    for _i in range(months - 1):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    ledger_id = personal_account.ledger_account_id
    rows = (
        LedgerTransfer.objects.filter(value_date__gte=start, value_date__lte=today)
        .filter(
            Q(debit_account_id=ledger_id, kind=LedgerTransfer.Kind.CHARGE)
            | Q(credit_account_id=ledger_id, kind=LedgerTransfer.Kind.REVERSAL, reverses__kind="charge")
        )
        .annotate(month=TruncMonth("value_date"))
        .values("month", "kind")
        .annotate(total=Sum("amount_kopecks"))
        .order_by()
    )
    totals: dict[dt.date, int] = {}
    for row in rows:
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = month.date()
        sign = 1 if row["kind"] == LedgerTransfer.Kind.CHARGE else -1
        totals[month] = totals.get(month, 0) + sign * int(row["total"] or 0)
    result = []
    month = start
    while month <= today:
        result.append(MonthSpending(month=month, charged_kopecks=max(totals.get(month, 0), 0)))
        month = next_month_start(month)
    return result


# --- Services of an account and the switches the catalog allows --------------------------------------

# Tabs of the account page: a tab groups service lines (the internet tab also carries Wi-Fi and IP
# telephony blocks, as on the operator's site).
SERVICE_TABS: list[tuple[str, Any, tuple[str, ...]]] = [
    ("internet", _("Услуги СПД"), ("internet", "wifi", "ip_telephony")),
    ("mobile", _("Мобильная связь"), ("mobile",)),
    ("tv", _("Телевидение"), ("tv",)),
    ("landline", _("Домашний телефон"), ("landline",)),
    ("video", _("Видеонаблюдение"), ("video_surveillance",)),
]


def _current_price(prices: Iterable[Any], day: dt.date) -> int | None:
    best = None
    for version in prices:
        if version.effective_from <= day and (best is None or version.effective_from > best.effective_from):
            best = version
    return best.price_kopecks if best else None


@dataclass
class TariffChoice:
    tariff: Any
    price_kopecks: int | None


@dataclass
class OptionSwitch:
    option: Any
    price_kopecks: int | None
    # The active SubscriptionOption when the option is on.
    active: SubscriptionOption | None

    @property
    def is_on(self) -> bool:
        return self.active is not None


@dataclass
class SubscriptionServices:
    subscription: Subscription
    switch_to: list[TariffChoice]
    options: list[OptionSwitch]


@dataclass
class ServiceTab:
    code: str
    label: str
    lines: list[SubscriptionServices]


def account_services(*, personal_account: PersonalAccount, today: dt.date | None = None) -> list[ServiceTab]:
    """The account's live subscriptions grouped into tabs, each with the tariffs it may switch to and the
    options the catalog offers for it (on or off). The account must come from
    ``personal_account_with_services_for_user``; 2 more queries (tariffs to switch to, options)."""
    from kabinet.catalog.models import Option, PriceVersion, Tariff

    today = today or timezone.localdate()
    subs: list[Subscription] = list(getattr(personal_account, "live_subscriptions", []))
    tariff_ids = {s.tariff_id for s in subs}
    kinds = {s.tariff.service_kind for s in subs}
    price_prefetch = Prefetch("prices", queryset=PriceVersion.objects.order_by("-effective_from"))
    switch_map: dict[int, list[Any]] = {}
    if tariff_ids:
        through = Tariff.switchable_to.through
        rows = list(
            through.objects.filter(
                from_tariff_id__in=tariff_ids, to_tariff__status=Tariff.Status.AVAILABLE
            ).values_list("from_tariff_id", "to_tariff_id")
        )
        targets = {
            t.pk: t
            for t in Tariff.objects.filter(pk__in={r[1] for r in rows}).prefetch_related(price_prefetch)
        }
        for from_id, to_id in rows:
            if to_id in targets and to_id != from_id:
                switch_map.setdefault(from_id, []).append(targets[to_id])
    options = (
        list(
            Option.objects.filter(service_kind__in=kinds, is_available=True)
            .prefetch_related(price_prefetch, "compatible_tariffs")
            .order_by("kind", "name")
        )
        if kinds
        else []
    )
    tabs: dict[str, ServiceTab] = {}
    for code, label, _tab_kinds in SERVICE_TABS:
        tabs[code] = ServiceTab(code=code, label=label, lines=[])
    kind_to_tab = {k: code for code, _label, tab_kinds in SERVICE_TABS for k in tab_kinds}
    for sub in subs:
        active_by_option = {so.option_id: so for so in getattr(sub, "active_options", [])}
        offered = []
        for option in options:
            if option.service_kind != sub.tariff.service_kind:
                continue
            compatible = {t.pk for t in option.compatible_tariffs.all()}
            if compatible and sub.tariff_id not in compatible:
                continue
            offered.append(
                OptionSwitch(
                    option=option,
                    price_kopecks=_current_price(option.prices.all(), today),
                    active=active_by_option.pop(option.pk, None),
                )
            )
        # Options still on but no longer offered (archived): shown so they can be switched off.
        for so in active_by_option.values():
            offered.append(OptionSwitch(option=so.option, price_kopecks=so.price_kopecks, active=so))
        choices = [
            TariffChoice(tariff=t, price_kopecks=_current_price(t.prices.all(), today))
            for t in sorted(switch_map.get(sub.tariff_id, []), key=lambda t: t.name)
        ]
        tab = tabs[kind_to_tab.get(sub.tariff.service_kind, "internet")]
        tab.lines.append(SubscriptionServices(subscription=sub, switch_to=choices, options=offered))
    # The account's own service line always has a tab; other tabs only when they have services.
    own_tab = kind_to_tab.get(personal_account.service_kind, "internet")
    return [tab for code, tab in tabs.items() if tab.lines or code == own_tab]


def consent_records_for_account(
    *, user: Any, personal_account: PersonalAccount, limit: int = 200
) -> list[Any]:
    """The consent log of one of the user's accounts (what, when, price, device): one query."""
    from kabinet.subscriptions.selectors import consent_list_for_user

    return list(consent_list_for_user(user=user, personal_account_id=personal_account.pk)[:limit])


def connectable_tariffs(
    *, personal_account: PersonalAccount, today: dt.date | None = None
) -> list[TariffChoice]:
    """Tariffs an account without a live service may connect (its service kind, available): 1 query."""
    from kabinet.catalog.models import PriceVersion, Tariff

    if getattr(personal_account, "live_subscriptions", None):
        return []
    today = today or timezone.localdate()
    tariffs = (
        Tariff.objects.filter(service_kind=personal_account.service_kind, status=Tariff.Status.AVAILABLE)
        .prefetch_related(Prefetch("prices", queryset=PriceVersion.objects.order_by("-effective_from")))
        .order_by("name")
    )
    return [TariffChoice(tariff=t, price_kopecks=_current_price(t.prices.all(), today)) for t in tariffs]


def related_accounts(*, user: Any, kinds: Sequence[str]) -> list[PersonalAccount]:
    """The user's accounts of these service kinds (the Wi-Fi and IP telephony blocks of the СПД tab)."""
    return list(personal_account_list_for_user(user=user).filter(service_kind__in=kinds))
