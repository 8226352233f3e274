# SQL below is composed from constants, table names and ids read from the database; every value
# from outside goes through query parameters.
# ruff: noqa: S608
"""The billing run: set-based, chunked, idempotent and crash-safe charging of every personal account.

The rules (``docs/billing.md`` explains them with examples):

- **Daily tariffs** are charged for every day of service: key ``charge:<subscription>:<YYYY-MM-DD>``.
- **Monthly tariffs** are charged for the month on the run of its first day, key
  ``charge:<subscription>:<YYYY-MM>``. A subscription connected mid-month is charged by the run of its
  connect day (or any later run of that month, if a run was missed) for the days from ``started_on`` to
  the month's end: ``price * days / days_in_month``, rounded down to the kopeck. An account unblocked
  mid-month after missing the charge of the first is charged the same way from the day of the run.
  The transfer's ``value_date`` is the first billed day, which the refund below relies on.
- **Disconnect mid-month** (``ended_on`` before the month's last day): the run of the next day returns
  the unused days of the month's charge, ``charged * unused_days / billed_days`` rounded down, as one
  transfer back from revenue, key ``refund:<subscription>:<YYYY-MM>``.
- **Options** are billed the same way (keys ``charge:opt:<id>:...`` and ``refund:opt:<id>:...``);
  one-off options once, ``charge:opt:<id>:once``.
- **Blocked accounts** (any status but active) are not charged. A voluntarily blocked account pays only
  the block's own fee: charged by the subscriptions domain's daily job from the block's fee snapshot
  (``vblock-fee:<block>:<date>``); with ``BILLING_RUN_VOLUNTARY_BLOCK_FEE`` the run charges it instead,
  ``Tariff.voluntary_block_fee_kopecks`` per day per subscription, key
  ``charge:block:<subscription>:<YYYY-MM-DD>``.
- **Before charging** (``billing_prepare``): scheduled tariff changes due by the run date are applied
  (tariff, period, price snapshot) and price snapshots of tariffs and options with a price version that
  took effect in the last ``BILLING_PRICE_CATCHUP_DAYS`` days are refreshed (a bundle member keeps its
  bundle's discount).
- **After charging**: active accounts whose balance is below minus their credit limit are blocked for
  non-payment and their active subscriptions suspended (audited). ``personal_account_unblock_if_paid``
  restores them.

How: personal accounts are split into chunks by primary key (``[k * size, (k + 1) * size)``,
``settings.BILLING_CHUNK_SIZE``). One chunk is one transaction: claim the done marker
``BillingRunChunk(run_date, chunk_start)`` (a rerun, or a second worker given the same chunk, finds it
and skips the chunk without touching any transfer), insert every due transfer with a single
``INSERT ... SELECT ... ON CONFLICT (key) DO NOTHING RETURNING`` and update the subscriber balances from
what was actually inserted in the same statement, block debtors, then add the (few) system account
deltas in primary-key order. Killing the process at any moment leaves each chunk either fully done
with its marker or not at all; the next run does the rest. The unique key makes every charge exist
once whatever happens.

Lock order (to avoid deadlocks with ``ledger_transfer_post``): subscriber ledger accounts first, then
system ledger accounts by primary key. A deadlock or serialization failure is retried.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, transaction
from django.db.models import F, Max, Min, Sum
from django.utils import timezone

from kabinet.billing.models import (
    BillingRun,
    BillingRunChunk,
    LedgerAccount,
    PersonalAccount,
    Subscription,
)
from kabinet.billing.services import ledger_account_system, revenue_account_code
from kabinet.catalog.models import PriceVersion, ServiceKind

logger = logging.getLogger(__name__)

MONTHS_RU = (
    "",
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)
BLOCK_DEBT_REASON = "Недостаточно средств: баланс ниже кредитного лимита"
RETRY_ATTEMPTS = 5


def month_label(day: dt.date) -> str:
    """«ноябрь 2026»."""
    return f"{MONTHS_RU[day.month]} {day.year}"


def chunk_size_default() -> int:
    return int(getattr(settings, "BILLING_CHUNK_SIZE", 20000))


# --- Chunks ------------------------------------------------------------------------------------------


def billing_chunks(*, chunk_size: int | None = None) -> list[tuple[int, int]]:
    """Aligned primary-key ranges ``[start, end]`` (inclusive) covering every personal account.

    Aligned to multiples of the chunk size, so the same account is always in the same chunk and a
    rerun's chunks match the done markers of the first run.
    """
    size = chunk_size or chunk_size_default()
    bounds = PersonalAccount.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return []
    first, last = bounds["lo"] // size, bounds["hi"] // size
    return [(k * size, (k + 1) * size - 1) for k in range(first, last + 1)]


# --- Preparation: scheduled tariff changes and price versions -----------------------------------------


def _bundle_discount_sql(tariff_sql: str) -> str:
    """The discount (basis points) of the subscription's bundle if the bundle contains ``tariff_sql``.

    The bundle membership lives in the subscriptions app (it depends on billing, not the other way), so
    it is looked up through the app registry at run time.
    """
    try:
        membership = apps.get_model("subscriptions", "BundleMembership")
    except LookupError:
        return "0"
    bundle_table = apps.get_model("catalog", "Bundle")._meta.db_table
    through = apps.get_model("catalog", "Bundle").tariffs.through._meta.db_table
    return (
        f"COALESCE((SELECT b.discount_bp FROM {membership._meta.db_table} m "
        f"JOIN {bundle_table} b ON b.id = m.bundle_id "
        f"JOIN {through} bt ON bt.bundle_id = b.id AND bt.tariff_id = {tariff_sql} "
        f"WHERE m.subscription_id = billing_subscription.id), 0)"
    )


def billing_prepare(*, run_date: dt.date) -> dict[str, int]:
    """Make the data right for charging ``run_date``; idempotent, cheap when there is nothing to do."""
    for kind in ServiceKind.values:
        ledger_account_system(code=revenue_account_code(kind))
    catchup = int(getattr(settings, "BILLING_PRICE_CATCHUP_DAYS", 31))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    since = run_date - dt.timedelta(days=catchup)
    latest_price = (
        "(SELECT pv.price_kopecks FROM catalog_priceversion pv WHERE pv.tariff_id = {t} "
        "AND pv.effective_from <= %s ORDER BY pv.effective_from DESC LIMIT 1)"
    )
    window = PriceVersion.objects.filter(effective_from__gt=since, effective_from__lte=run_date)
    tariff_ids = sorted({pk for pk in window.values_list("tariff_id", flat=True) if pk})
    option_ids = sorted({pk for pk in window.values_list("option_id", flat=True) if pk})
    changed = repriced = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # Scheduled tariff changes due by the run date (set-based; pre-update values on the right).
        new_price = latest_price.format(t="billing_subscription.next_tariff_id")
        discount = _bundle_discount_sql("billing_subscription.next_tariff_id")
        cursor.execute(
            f"""
            UPDATE billing_subscription SET
              tariff_id = next_tariff_id,
              period = (SELECT t.period FROM catalog_tariff t WHERE t.id = billing_subscription.next_tariff_id),
              price_kopecks = COALESCE({new_price} * (10000 - {discount}) / 10000, price_kopecks),
              next_tariff_id = NULL,
              next_tariff_from = NULL,
              updated_at = %s
            WHERE next_tariff_id IS NOT NULL AND next_tariff_from <= %s
              AND status IN ('active', 'suspended')
            """,
            [run_date, now, run_date],
        )
        changed = cursor.rowcount
        # Price versions that took effect recently: refresh the snapshots that still differ.
        if tariff_ids:
            cur_price = latest_price.format(t="billing_subscription.tariff_id")
            discount = _bundle_discount_sql("billing_subscription.tariff_id")
            expected = f"({cur_price} * (10000 - {discount}) / 10000)"
            marks = ", ".join(["%s"] * len(tariff_ids))
            cursor.execute(
                f"""
                UPDATE billing_subscription SET price_kopecks = {expected}, updated_at = %s
                WHERE tariff_id IN ({marks}) AND status IN ('active', 'suspended')
                  AND started_on < (SELECT MAX(pv.effective_from) FROM catalog_priceversion pv
                                    WHERE pv.tariff_id = billing_subscription.tariff_id AND pv.effective_from <= %s)
                  AND price_kopecks <> {expected}
                """,
                [run_date, now, *tariff_ids, run_date, run_date],
            )
            repriced += cursor.rowcount
        if option_ids:
            opt_price = (
                "(SELECT pv.price_kopecks FROM catalog_priceversion pv "
                "WHERE pv.option_id = billing_subscriptionoption.option_id "
                "AND pv.effective_from <= %s ORDER BY pv.effective_from DESC LIMIT 1)"
            )
            marks = ", ".join(["%s"] * len(option_ids))
            cursor.execute(
                f"""
                UPDATE billing_subscriptionoption SET price_kopecks = {opt_price}, updated_at = %s
                WHERE option_id IN ({marks}) AND status = 'active'
                  AND started_on < (SELECT MAX(pv.effective_from) FROM catalog_priceversion pv
                                    WHERE pv.option_id = billing_subscriptionoption.option_id
                                      AND pv.effective_from <= %s)
                  AND price_kopecks <> {opt_price}
                """,
                [run_date, now, *option_ids, run_date, run_date],
            )
            repriced += cursor.rowcount
    return {"tariff_changes": changed, "repriced": repriced}


# --- One chunk ---------------------------------------------------------------------------------------


@dataclass
class ChunkResult:
    chunk_start: int
    chunk_end: int
    skipped: bool = False
    accounts: int = 0
    charges: int = 0
    total_kopecks: int = 0
    refunds: int = 0
    blocked: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Dialect:
    """The few SQL spellings that differ between PostgreSQL and SQLite."""

    def __init__(self, vendor: str) -> None:
        self.pg = vendor == "postgresql"

    def days_incl(self, first: str, last: str) -> str:
        if self.pg:
            return f"(({last}) - ({first}) + 1)"
        return f"(CAST(julianday({last}) - julianday({first}) AS INTEGER) + 1)"

    def greatest(self, *exprs: str) -> str:
        return f"{'GREATEST' if self.pg else 'max'}({', '.join(exprs)})"

    def ddmmyyyy(self, expr: str) -> str:
        if self.pg:
            return f"to_char({expr}, 'DD.MM.YYYY')"
        return f"strftime('%%d.%%m.%%Y', {expr})"

    def date(self, name: str) -> str:
        return f"%({name})s::date" if self.pg else f"%({name})s"

    def add_days(self, expr: str, days: int) -> str:
        if self.pg:
            return f"({expr} + {days})"
        return f"date({expr}, '{days:+d} day')"


def _revenue_map() -> dict[str, int]:
    codes = {revenue_account_code(kind): kind for kind in ServiceKind.values}
    return {
        codes[code]: pk for code, pk in LedgerAccount.objects.filter(code__in=codes).values_list("code", "pk")
    }


def _candidates_sql(d: _Dialect, revenue: dict[str, int], *, first_of_month: bool) -> str:
    """One SELECT (``cand``: UNION ALL of the rules) of every transfer due for a chunk on a date.

    Columns: key, debit, credit, amount, kind, value_date, description, sub_id. Named parameters
    are filled by ``_chunk_params``.
    """
    day, ms, me = d.date("day"), d.date("month_start"), d.date("month_end")
    rev = " UNION ALL ".join(f"SELECT '{kind}' AS kind, {pk} AS lid" for kind, pk in sorted(revenue.items()))
    if not rev:
        rev = "SELECT '' AS kind, 0 AS lid"
    in_chunk = "s.personal_account_id BETWEEN %(lo)s AND %(hi)s"
    # The subscription gives service on the run date.
    serving = (
        f"s.status <> 'suspended' AND s.started_on <= {day} "
        f"AND (s.ended_on >= {day} OR (s.ended_on IS NULL AND s.status = 'active'))"
    )
    option_serving = (
        f"o.status = 'active' AND o.started_on <= {day} AND (o.ended_on IS NULL OR o.ended_on >= {day})"
    )

    def month_rule(a: str) -> tuple[str, str, str]:
        """(first billed day, amount, due) of a monthly subscription or option aliased ``a``."""
        first = f"(CASE WHEN {a}.started_on > {ms} THEN {a}.started_on ELSE {day} END)"
        amount = (
            f"(CASE WHEN {first} = {ms} THEN {a}.price_kopecks "
            f"ELSE {a}.price_kopecks * {d.days_incl(first, me)} / %(dim)s END)"
        )
        # Not the first: only connections of this month and accounts whose status changed this month
        # (resumed after a block) can still owe this month's fee; the rest is never joined.
        due = (
            "(1 = 1)"
            if first_of_month
            else (
                f"({a}.started_on BETWEEN {ms} AND {day} OR s.personal_account_id IN ("
                "SELECT r.id FROM billing_personalaccount r WHERE r.id BETWEEN %(lo)s AND %(hi)s "
                "AND r.status_changed_at >= %(month_start_ts)s))"
            )
        )
        return first, amount, due

    def since(first: str) -> str:
        return f"(CASE WHEN {first} = {ms} THEN '' ELSE ' (с ' || {d.ddmmyyyy(first)} || ')' END)"

    tariff_from = """
        FROM billing_subscription s
        JOIN billing_personalaccount pa ON pa.id = s.personal_account_id
        JOIN catalog_tariff t ON t.id = s.tariff_id
        JOIN rev ON rev.kind = t.service_kind
    """
    option_from = """
        FROM billing_subscriptionoption o
        JOIN billing_subscription s ON s.id = o.subscription_id
        JOIN billing_personalaccount pa ON pa.id = s.personal_account_id
        JOIN catalog_option op ON op.id = o.option_id
        JOIN rev ON rev.kind = op.service_kind
    """
    parts: list[str] = []
    # 1. Daily tariffs.
    parts.append(f"""
        SELECT 'charge:' || s.id || ':' || %(day_key)s AS key, pa.ledger_account_id AS debit,
               rev.lid AS credit, s.price_kopecks AS amount, 'charge' AS kind, {day} AS value_date,
               'Абонентская плата по тарифу «' || t.name || '» за ' || %(day_text)s AS description,
               s.id AS sub_id
        {tariff_from}
        WHERE {in_chunk} AND pa.status = 'active' AND s.period = 'day' AND {serving}
    """)
    # 2. Monthly tariffs: on the first; connected or resumed mid-month, prorated.
    first, amount, due = month_rule("s")
    parts.append(f"""
        SELECT 'charge:' || s.id || ':' || %(month_key)s, pa.ledger_account_id, rev.lid, {amount},
               'charge', {first},
               'Абонентская плата по тарифу «' || t.name || '» за ' || %(month_text)s || {since(first)}, s.id
        {tariff_from}
        WHERE {in_chunk} AND pa.status = 'active' AND s.period = 'month' AND {serving} AND {due}
    """)
    # 3. The voluntary block's own fee, per day (when not charged by the subscriptions domain).
    if getattr(settings, "BILLING_RUN_VOLUNTARY_BLOCK_FEE", False):
        parts.append(f"""
            SELECT 'charge:block:' || s.id || ':' || %(day_key)s, pa.ledger_account_id, rev.lid,
                   t.voluntary_block_fee_kopecks, 'charge', {day},
                   'Плата за добровольную блокировку по тарифу «' || t.name || '» за ' || %(day_text)s, s.id
            {tariff_from}
            WHERE {in_chunk} AND pa.status = 'blocked_voluntary' AND t.voluntary_block_fee_kopecks > 0
              AND s.status IN ('active', 'suspended') AND s.started_on <= {day}
              AND (s.ended_on IS NULL OR s.ended_on >= {day})
        """)
    # 4. Daily options.
    parts.append(f"""
        SELECT 'charge:opt:' || o.id || ':' || %(day_key)s, pa.ledger_account_id, rev.lid, o.price_kopecks,
               'charge', {day}, 'Плата за опцию «' || op.name || '» за ' || %(day_text)s, s.id
        {option_from}
        WHERE {in_chunk} AND pa.status = 'active' AND o.period = 'day' AND {option_serving} AND {serving}
    """)
    # 5. Monthly options.
    first, amount, due = month_rule("o")
    parts.append(f"""
        SELECT 'charge:opt:' || o.id || ':' || %(month_key)s, pa.ledger_account_id, rev.lid, {amount},
               'charge', {first},
               'Плата за опцию «' || op.name || '» за ' || %(month_text)s || {since(first)}, s.id
        {option_from}
        WHERE {in_chunk} AND pa.status = 'active' AND o.period = 'month' AND {option_serving}
          AND {serving} AND {due}
    """)
    # 6. One-off options: once, by the run of their connect day (or a later one within a month).
    parts.append(f"""
        SELECT 'charge:opt:' || o.id || ':once', pa.ledger_account_id, rev.lid, o.price_kopecks,
               'charge', o.started_on, 'Подключение опции «' || op.name || '»', s.id
        {option_from}
        WHERE {in_chunk} AND pa.status = 'active' AND o.period = 'once' AND o.status = 'active'
          AND o.started_on BETWEEN {d.date("month_ago")} AND {day}
    """)
    # 7. Refund of the unused days of a monthly fee after a disconnect before the month's end.
    for prefix, alias, label, joins, name in (
        ("", "s", "абонентской платы по тарифу", "JOIN catalog_tariff t ON t.id = s.tariff_id", "t.name"),
        (
            "opt:",
            "o",
            "платы за опцию",
            "JOIN billing_subscription s ON s.id = o.subscription_id "
            "JOIN catalog_option op ON op.id = o.option_id",
            "op.name",
        ),
    ):
        table = "billing_subscription" if alias == "s" else "billing_subscriptionoption"
        ended = f"{alias}.ended_on"
        served_to = d.greatest(ended, d.add_days("c.value_date", -1))
        unused = f"({d.days_incl(served_to, me)} - 1)"
        billed = d.days_incl("c.value_date", me)
        parts.append(f"""
            SELECT 'refund:{prefix}' || {alias}.id || ':' || %(month_key)s, c.credit_account_id,
                   c.debit_account_id, c.amount_kopecks * {unused} / {billed}, 'reversal', {day},
                   'Перерасчёт {label} «' || {name} || '» за ' || %(month_text)s
                     || ': не использовано с ' || {d.ddmmyyyy(d.add_days(ended, 1))}, s.id
            FROM {table} {alias}
            {joins}
            JOIN billing_ledgertransfer c ON c.key = 'charge:{prefix}' || {alias}.id || ':' || %(month_key)s
            WHERE {in_chunk} AND {alias}.period = 'month'
              AND {ended} >= {ms} AND {ended} < {day} AND {ended} < {me}
        """)
    return f"WITH rev AS ({rev}), cand AS ({' UNION ALL '.join(parts)}) "


def _chunk_params(*, run_date: dt.date, lo: int, hi: int, now: dt.datetime) -> dict[str, Any]:
    month_start = run_date.replace(day=1)
    dim = calendar.monthrange(run_date.year, run_date.month)[1]
    adapt = connection.ops.adapt_datetimefield_value
    return {
        "day": run_date,
        "day_key": run_date.isoformat(),
        "day_text": run_date.strftime("%d.%m.%Y"),
        "month_start": month_start,
        "month_start_ts": adapt(timezone.make_aware(dt.datetime.combine(month_start, dt.time.min))),
        "month_end": month_start.replace(day=dim),
        "month_key": run_date.strftime("%Y-%m"),
        "month_text": month_label(run_date),
        "month_ago": run_date - dt.timedelta(days=31),
        "dim": dim,
        "lo": lo,
        "hi": hi,
        "now": adapt(now),
    }


_INSERT_COLUMNS = (
    "key, debit_account_id, credit_account_id, amount_kopecks, kind, value_date, description, "
    "subscription_id, created_at, ref, reason"
)
_SELECT_COLUMNS = (
    "key, debit, credit, amount, kind, value_date, substr(description, 1, 255), sub_id, %(now)s, '', ''"
)


def _is_retryable(exc: BaseException) -> bool:
    cause = getattr(exc, "__cause__", None)
    sqlstate = getattr(cause, "sqlstate", None) or getattr(exc, "sqlstate", None)
    if sqlstate in ("40P01", "40001"):
        return True
    return "database is locked" in str(exc)


def billing_chunk_process(
    *, run_date: dt.date, chunk_start: int, chunk_end: int, run_id: int | None = None
) -> ChunkResult:
    """Charge one chunk of personal accounts for ``run_date`` in one transaction (retried on deadlock)."""
    for attempt in range(1, RETRY_ATTEMPTS + 1):
        try:
            return _chunk_once(run_date=run_date, lo=chunk_start, hi=chunk_end, run_id=run_id)
        except OperationalError as exc:
            if attempt == RETRY_ATTEMPTS or not _is_retryable(exc):
                raise
            logger.warning("billing chunk %s retried after %s", chunk_start, exc)
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _chunk_once(*, run_date: dt.date, lo: int, hi: int, run_id: int | None) -> ChunkResult:
    d = _Dialect(connection.vendor)
    result = ChunkResult(chunk_start=lo, chunk_end=hi)
    now = timezone.now()
    revenue = _revenue_map()
    with transaction.atomic(), connection.cursor() as cursor:
        # 1. Claim the chunk. A marker already there: billed by an earlier (or concurrent) run.
        cursor.execute(
            """
            INSERT INTO billing_billingrunchunk (run_date, chunk_start, chunk_end, run_id, accounts_count,
              charges_count, total_kopecks, blocked_count, finished_at)
            VALUES (%s, %s, %s, %s, 0, 0, 0, 0, %s) ON CONFLICT (run_date, chunk_start) DO NOTHING
            """,
            [run_date, lo, hi, run_id, connection.ops.adapt_datetimefield_value(now)],
        )
        if cursor.rowcount != 1:
            result.skipped = True
            return result
        # 2. Insert the due transfers; move the subscriber balances by what was actually inserted; block
        #    the charged accounts that end below minus their credit limit (suspend, audit).
        params = _chunk_params(run_date=run_date, lo=lo, hi=hi, now=now)
        params.update(reason=BLOCK_DEBT_REASON, old='{"status": "active"}', new='{"status": "blocked_debt"}')
        insert = (
            f"INSERT INTO billing_ledgertransfer ({_INSERT_COLUMNS}) "
            f"SELECT {_SELECT_COLUMNS} FROM cand WHERE amount > 0 "
            "ON CONFLICT (key) DO NOTHING "
            "RETURNING debit_account_id, credit_account_id, amount_kopecks, kind"
        )
        system_deltas: dict[int, int] = {}
        if d.pg:
            cursor.execute(
                f"""
                {_candidates_sql(d, revenue, first_of_month=run_date.day == 1)},
                ins AS ({insert}),
                moves AS (SELECT debit_account_id AS lid, -amount_kopecks AS delta FROM ins
                          UNION ALL SELECT credit_account_id, amount_kopecks FROM ins),
                agg AS (SELECT lid, SUM(delta) AS delta FROM moves GROUP BY lid),
                upd AS (UPDATE billing_ledgeraccount la SET balance_kopecks = la.balance_kopecks + agg.delta
                        FROM agg WHERE la.id = agg.lid AND la.kind = 'subscriber'
                        RETURNING la.id, la.balance_kopecks),
                blk AS (UPDATE billing_personalaccount pa
                        SET status = 'blocked_debt', status_reason = %(reason)s, status_changed_at = %(now)s,
                            updated_at = %(now)s
                        FROM upd WHERE pa.ledger_account_id = upd.id AND pa.status = 'active'
                          AND upd.balance_kopecks + pa.credit_limit_kopecks < 0
                        RETURNING pa.id),
                susp AS (UPDATE billing_subscription SET status = 'suspended', updated_at = %(now)s
                         WHERE personal_account_id IN (SELECT id FROM blk) AND status = 'active' RETURNING 1),
                aud AS (INSERT INTO core_auditevent (created_at, actor_is_staff, action, target_type, target_id,
                                                     old, new, reason)
                        SELECT %(now)s, false, 'personal_account.status', 'billing.personalaccount',
                               blk.id::text, %(old)s::jsonb, %(new)s::jsonb, %(reason)s FROM blk RETURNING 1)
                SELECT 0, (SELECT COUNT(*) FROM upd),
                       (SELECT COUNT(*) FROM ins WHERE kind = 'charge'),
                       (SELECT COALESCE(SUM(amount_kopecks), 0) FROM ins WHERE kind = 'charge'),
                       (SELECT COUNT(*) FROM ins WHERE kind <> 'charge'),
                       (SELECT COUNT(*) FROM blk), (SELECT COUNT(*) FROM susp), (SELECT COUNT(*) FROM aud)
                UNION ALL
                SELECT 1, agg.lid, agg.delta, 0, 0, 0, 0, 0 FROM agg
                JOIN billing_ledgeraccount la ON la.id = agg.lid WHERE la.kind <> 'subscriber'
                """,
                params,
            )
            for row in cursor.fetchall():
                if row[0] == 0:
                    result.accounts, result.charges, result.total_kopecks = (
                        int(row[1]),
                        int(row[2]),
                        int(row[3]),
                    )
                    result.refunds, result.blocked = int(row[4]), int(row[5])
                elif row[2]:
                    system_deltas[int(row[1])] = int(row[2])
        else:
            system_deltas = _chunk_sqlite(cursor, d, revenue, insert, params, result, run_date=run_date)
        # 3. The marker's counts, then the hot system accounts last and in pk order (short lock).
        cursor.execute(
            """
            UPDATE billing_billingrunchunk SET accounts_count = %s, charges_count = %s, total_kopecks = %s,
              blocked_count = %s WHERE run_date = %s AND chunk_start = %s
            """,
            [result.accounts, result.charges, result.total_kopecks, result.blocked, run_date, lo],
        )
        for pk in sorted(system_deltas):
            if system_deltas[pk]:
                cursor.execute(
                    "UPDATE billing_ledgeraccount SET balance_kopecks = balance_kopecks + %s WHERE id = %s",
                    [system_deltas[pk], pk],
                )
    return result


def _chunk_sqlite(
    cursor: Any,
    d: _Dialect,
    revenue: dict[str, int],
    insert: str,
    params: dict[str, Any],
    result: ChunkResult,
    *,
    run_date: dt.date,
) -> dict[int, int]:
    """The same statements for SQLite, which has no data-modifying CTEs: the RETURNING rows are summed
    here and applied with a few more statements (SQLite serializes writers, so no lock order matters)."""
    cursor.execute(f"{_candidates_sql(d, revenue, first_of_month=run_date.day == 1)} {insert}", params)
    deltas: dict[int, int] = {}
    for debit, credit, amount, kind in cursor.fetchall():
        deltas[debit] = deltas.get(debit, 0) - amount
        deltas[credit] = deltas.get(credit, 0) + amount
        if kind == "charge":
            result.charges += 1
            result.total_kopecks += amount
        else:
            result.refunds += 1
    kinds = dict(LedgerAccount.objects.filter(pk__in=list(deltas)).values_list("pk", "kind"))
    subscriber = sorted((pk, delta) for pk, delta in deltas.items() if kinds[pk] == "subscriber" and delta)
    cursor.executemany(
        "UPDATE billing_ledgeraccount SET balance_kopecks = balance_kopecks + %s WHERE id = %s",
        [(delta, pk) for pk, delta in subscriber],
    )
    result.accounts = len(subscriber)
    charged = [pk for pk, _delta in subscriber]
    blocked: list[int] = []
    for start in range(0, len(charged), 500):
        batch = charged[start : start + 500]
        marks = ", ".join(["%s"] * len(batch))
        cursor.execute(
            f"""
            UPDATE billing_personalaccount
            SET status = 'blocked_debt', status_reason = %s, status_changed_at = %s, updated_at = %s
            WHERE ledger_account_id IN ({marks}) AND status = 'active'
              AND credit_limit_kopecks + (SELECT la.balance_kopecks FROM billing_ledgeraccount la
                                          WHERE la.id = billing_personalaccount.ledger_account_id) < 0
            RETURNING id
            """,
            [params["reason"], params["now"], params["now"], *batch],
        )
        blocked += [row[0] for row in cursor.fetchall()]
    if blocked:
        Subscription.objects.filter(
            personal_account_id__in=blocked, status=Subscription.Status.ACTIVE
        ).update(status=Subscription.Status.SUSPENDED, updated_at=timezone.now())
        cursor.executemany(
            """
            INSERT INTO core_auditevent (created_at, actor_is_staff, action, target_type, target_id, old,
                                         new, reason)
            VALUES (%s, 0, 'personal_account.status', 'billing.personalaccount', %s, %s, %s, %s)
            """,
            [(params["now"], str(pk), params["old"], params["new"], params["reason"]) for pk in blocked],
        )
    result.blocked = len(blocked)
    return {pk: delta for pk, delta in deltas.items() if kinds[pk] != "subscriber"}


# --- A whole run -------------------------------------------------------------------------------------


@dataclass
class RunSummary:
    run_id: int
    run_date: dt.date
    accounts: int = 0
    charges: int = 0
    total_kopecks: int = 0
    blocked: int = 0
    chunks: int = 0
    chunks_skipped: int = 0
    seconds: float = 0.0
    status: str = BillingRun.Status.RUNNING
    errors: list[str] = field(default_factory=list)


def billing_run_start(
    *, run_date: dt.date, workers: int = 1, chunk_size: int | None = None, triggered_by: str = "cli"
) -> tuple[BillingRun, list[tuple[int, int]]]:
    """Prepare the date and record a BillingRun with its planned chunks."""
    size = chunk_size or chunk_size_default()
    billing_prepare(run_date=run_date)
    chunks = billing_chunks(chunk_size=size)
    run = BillingRun.objects.create(
        run_date=run_date,
        workers=workers,
        chunks_total=len(chunks),
        chunk_size=size,
        triggered_by=triggered_by,
    )
    return run, chunks


def billing_run_chunk_done(*, run_id: int, result: ChunkResult) -> None:
    """Count a finished chunk on its run (after the chunk's commit; the marker is the truth)."""
    if result.skipped:
        BillingRun.objects.filter(pk=run_id).update(chunks_skipped=F("chunks_skipped") + 1)
    else:
        BillingRun.objects.filter(pk=run_id).update(chunks_done=F("chunks_done") + 1)


def billing_run_record_error(*, run_id: int, error: str) -> None:
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        run.errors = [*run.errors, error[:1000]]
        run.status = BillingRun.Status.FAILED
        run.save(update_fields=["errors", "status"])


def billing_run_finalize(*, run_id: int, force: bool = False) -> BillingRun:
    """Totals from the chunk markers; finished when every planned chunk has a marker for the date."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.finished_at is not None and not force:
            return run
        agg = BillingRunChunk.objects.filter(run_id=run.pk).aggregate(
            accounts=Sum("accounts_count"),
            charges=Sum("charges_count"),
            total=Sum("total_kopecks"),
            blocked=Sum("blocked_count"),
        )
        run.accounts_count = agg["accounts"] or 0
        run.charges_count = agg["charges"] or 0
        run.total_kopecks = agg["total"] or 0
        run.blocked_count = agg["blocked"] or 0
        size = run.chunk_size or chunk_size_default()
        planned = {start for start, _end in billing_chunks(chunk_size=size)}
        done = set(
            BillingRunChunk.objects.filter(run_date=run.run_date, chunk_start__in=planned).values_list(
                "chunk_start", flat=True
            )
        )
        if planned <= done:
            run.status = BillingRun.Status.FINISHED if not run.errors else BillingRun.Status.FAILED
            run.finished_at = timezone.now()
        run.save()
    return run


def billing_run(
    *,
    run_date: dt.date,
    workers: int = 1,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    triggered_by: str = "cli",
    fail_after_chunks: int | None = None,
) -> RunSummary:
    """Run a billing date in this process (the embedded default and tests).

    With ``workers > 1`` on PostgreSQL the chunks run in that many threads, each with its own
    connection. ``fail_after_chunks`` is a test hook that raises after that many chunks, to check that
    a run killed in the middle and rerun charges every subscription once.
    """
    started = time.monotonic()
    run, chunks = billing_run_start(
        run_date=run_date, workers=workers, chunk_size=chunk_size, triggered_by=triggered_by
    )
    summary = RunSummary(run_id=run.pk, run_date=run_date, chunks=len(chunks))
    done = 0

    def one(chunk: tuple[int, int]) -> ChunkResult:
        try:
            return billing_chunk_process(
                run_date=run_date, chunk_start=chunk[0], chunk_end=chunk[1], run_id=run.pk
            )
        finally:
            if workers > 1:
                close_old_connections()
                connection.close()

    def account(result: ChunkResult) -> None:
        nonlocal done
        billing_run_chunk_done(run_id=run.pk, result=result)
        done += 1
        summary.chunks_skipped += int(result.skipped)
        if progress:
            progress(done, len(chunks))

    try:
        if workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(one, chunk) for chunk in chunks]
                for future in as_completed(futures):
                    account(future.result())
        else:
            for index, chunk in enumerate(chunks):
                if fail_after_chunks is not None and index >= fail_after_chunks:
                    raise RuntimeError(f"injected failure after {fail_after_chunks} chunks")
                account(one(chunk))
    except Exception as exc:
        billing_run_record_error(run_id=run.pk, error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        final = billing_run_finalize(run_id=run.pk)
        summary.accounts = final.accounts_count
        summary.charges = final.charges_count
        summary.total_kopecks = final.total_kopecks
        summary.blocked = final.blocked_count
        summary.status = final.status
        summary.errors = list(final.errors)
        summary.seconds = time.monotonic() - started
    return summary
