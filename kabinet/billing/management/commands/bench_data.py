"""``kabinet bench-data --accounts N`` (also ``kabinet bench_data``): a synthetic operator, quickly.

Creates N customers, each with one personal account (and its ledger account), about 1.5 N subscriptions
on a mix of daily (mobile) and monthly (internet, TV) tariffs, opening balances posted as real ledger
transfers (so ``kabinet ledger verify`` holds), and some accounts blocked for debt or voluntarily.
PostgreSQL: rows stream through ``COPY ... FROM STDIN`` (psycopg copy) in batches, so memory stays flat
in N; SQLite: ``executemany`` in batches. Deterministic for a given ``--seed``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount, Subscription
from kabinet.billing.numbers import luhn_check_digit
from kabinet.billing.services import ADJUSTMENTS, ledger_account_system, revenue_account_code
from kabinet.catalog.models import Period, PriceVersion, ServiceKind, Tariff
from kabinet.customers.models import Customer

BATCH = 50_000
STARTED_ON = dt.date(2026, 1, 1)
# (code, name, service kind, period, price in kopecks)
BENCH_TARIFFS = [
    ("bench-mobile-8", "Мобильный 8", ServiceKind.MOBILE, Period.DAY, 800),
    ("bench-mobile-12", "Мобильный 12", ServiceKind.MOBILE, Period.DAY, 1200),
    ("bench-mobile-data", "Мобильный интернет+", ServiceKind.MOBILE, Period.DAY, 500),
    ("bench-home-100", "Домашний 100", ServiceKind.INTERNET, Period.MONTH, 41500),
    ("bench-home-300", "Домашний 300", ServiceKind.INTERNET, Period.MONTH, 60000),
    ("bench-home-ip", "Статический IP", ServiceKind.INTERNET, Period.MONTH, 15000),
    ("bench-tv-base", "ТВ Базовый", ServiceKind.TV, Period.MONTH, 11900),
    ("bench-tv-max", "ТВ Максимум", ServiceKind.TV, Period.MONTH, 39900),
    ("bench-tv-kids", "ТВ Детский", ServiceKind.TV, Period.MONTH, 9900),
]
# Half of the accounts are mobile (daily), 30% internet and 20% TV (monthly).
KIND_WEIGHTS = [(ServiceKind.MOBILE, 50), (ServiceKind.INTERNET, 30), (ServiceKind.TV, 20)]


class _Writer:
    """Appends rows of one model to its table; explicit columns, every other column its default."""

    def __init__(self, model: type[models.Model], columns: list[str], *, pg: bool) -> None:
        self.model = model
        self.table = model._meta.db_table
        self.pg = pg
        now = timezone.now()
        fields = [f for f in model._meta.concrete_fields]
        self.columns: list[str] = columns + [
            str(f.column) for f in fields if f.column not in columns and not f.primary_key
        ]
        self.fill: list[Any] = []
        for f in fields:
            if f.column in columns or f.primary_key:
                continue
            if f.null and not f.has_default():
                value: Any = None
            elif isinstance(f, models.DateTimeField):
                value = now
            else:
                value = f.get_default()
                if isinstance(value, dict | list):
                    value = json.dumps(value)
            self.fill.append(value)
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0

    def add(self, *values: Any) -> None:
        self.rows.append(values)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        fill = tuple(self.fill)
        with connection.cursor() as cursor:
            if self.pg:
                cols = ", ".join(self.columns)
                with cursor.cursor.copy(f"COPY {self.table} ({cols}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row + fill)
            else:
                adapt = connection.ops.adapt_datetimefield_value
                fill = tuple(adapt(v) if isinstance(v, dt.datetime) else v for v in fill)
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(
                    f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({marks})",  # noqa: S608
                    [row + fill for row in self.rows],
                )
        self.written += len(self.rows)
        self.rows = []


def _next_id(model: type[models.Model]) -> int:
    return (model._default_manager.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def _reset_sequences(pg: bool, *tables: str) -> None:
    if not pg:
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )


def bench_data_create(
    *, accounts: int, seed: int = 1, log: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Create the synthetic operator; returns counts and seconds."""
    say = log or (lambda _text: None)
    started = time.monotonic()
    pg = connection.vendor == "postgresql"
    rng = random.Random(seed)
    tariffs: dict[str, list[Tariff]] = {}
    kind: str
    for code, name, kind, period, price in BENCH_TARIFFS:
        tariff, created = Tariff.objects.get_or_create(
            code=code, defaults={"name": name, "service_kind": kind, "period": period}
        )
        if created:
            PriceVersion.objects.create(
                tariff=tariff, price_kopecks=price, effective_from=dt.date(2020, 1, 1)
            )
        tariff.bench_price = price  # type: ignore[attr-defined]
        tariffs.setdefault(kind, []).append(tariff)
    for kind in ServiceKind.values:
        ledger_account_system(code=revenue_account_code(kind))
    adjustments = ledger_account_system(code=ADJUSTMENTS)

    customer_id = _next_id(Customer)
    ledger_id = _next_id(LedgerAccount)
    account_id = _next_id(PersonalAccount)
    subscription_id = _next_id(Subscription)
    transfer_id = _next_id(LedgerTransfer)
    # Account numbers: a 9-digit base from the first free id on, plus the Luhn digit.
    number_base = 500_000_000 + account_id

    customers = _Writer(Customer, ["id", "display_name", "last_name", "first_name"], pg=pg)
    ledgers = _Writer(LedgerAccount, ["id", "code", "kind", "balance_kopecks"], pg=pg)
    accounts_w = _Writer(
        PersonalAccount,
        [
            "id",
            "number",
            "customer_id",
            "service_kind",
            "ledger_account_id",
            "status",
            "status_reason",
            "credit_limit_kopecks",
        ],
        pg=pg,
    )
    subs = _Writer(
        Subscription,
        ["id", "personal_account_id", "tariff_id", "status", "started_on", "price_kopecks", "period"],
        pg=pg,
    )
    transfers = _Writer(
        LedgerTransfer,
        [
            "id",
            "key",
            "debit_account_id",
            "credit_account_id",
            "amount_kopecks",
            "kind",
            "value_date",
            "description",
        ],
        pg=pg,
    )
    kinds = [k for k, _w in KIND_WEIGHTS]
    weights = [w for _k, w in KIND_WEIGHTS]
    adjustments_delta = 0
    blocked = 0
    subscriptions = 0
    opening = dt.date(2026, 1, 1)
    with transaction.atomic():
        if pg:
            # Bulk load of rows consistent by construction: skip the per-row foreign key triggers
            # (superuser; this transaction only). Unique indexes still apply.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        for i in range(accounts):
            cid, lid, aid = customer_id + i, ledger_id + i, account_id + i
            base = f"{number_base + i:09d}"
            number = base + luhn_check_digit(base)
            kind = rng.choices(kinds, weights)[0]
            roll = rng.random()
            credit_limit = 10000 if rng.random() < 0.2 else 0
            if roll < 0.03:
                status, reason = PersonalAccount.Status.BLOCKED_DEBT, "Недостаточно средств"
                balance = -rng.randrange(1000, 50000)
                blocked += 1
            elif roll < 0.05:
                status, reason = PersonalAccount.Status.BLOCKED_VOLUNTARY, "Добровольная блокировка"
                balance = rng.randrange(0, 100000)
                blocked += 1
            else:
                status, reason = PersonalAccount.Status.ACTIVE, ""
                balance = rng.randrange(0, 300000)
            customers.add(cid, f"Абонент {cid}", f"Абонент{cid}", "Тест")
            ledgers.add(lid, f"pa:{number}", LedgerAccount.Kind.SUBSCRIBER, balance)
            accounts_w.add(aid, number, cid, kind, lid, status, reason, credit_limit)
            sub_status = Subscription.Status.ACTIVE if status == "active" else Subscription.Status.SUSPENDED
            options = tariffs[kind]
            count = 2 if rng.random() < 0.5 else 1
            for tariff in rng.sample(options, count):
                subs.add(
                    subscription_id + subscriptions,
                    aid,
                    tariff.pk,
                    sub_status,
                    STARTED_ON,
                    tariff.bench_price,  # type: ignore[attr-defined]
                    tariff.period,
                )
                subscriptions += 1
            if balance:
                debit, credit = (adjustments.pk, lid) if balance > 0 else (lid, adjustments.pk)
                transfers.add(
                    transfer_id + i,
                    f"bench-opening:{aid}",
                    debit,
                    credit,
                    abs(balance),
                    LedgerTransfer.Kind.ADJUSTMENT,
                    opening,
                    "Начальный баланс (синтетические данные)",
                )
                adjustments_delta -= balance
            if (i + 1) % 100_000 == 0:
                say(f"  {i + 1} лицевых счетов...")
        for writer in (customers, ledgers, accounts_w, subs, transfers):
            writer.flush()
        LedgerAccount.objects.filter(pk=adjustments.pk).update(
            balance_kopecks=models.F("balance_kopecks") + adjustments_delta
        )
        _reset_sequences(
            pg,
            Customer._meta.db_table,
            LedgerAccount._meta.db_table,
            PersonalAccount._meta.db_table,
            Subscription._meta.db_table,
            LedgerTransfer._meta.db_table,
        )
    if pg:
        with connection.cursor() as cursor:
            for model in (Customer, LedgerAccount, PersonalAccount, Subscription, LedgerTransfer):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return {
        "accounts": accounts,
        "subscriptions": subscriptions,
        "blocked": blocked,
        "database": connection.vendor,
        "seconds": round(time.monotonic() - started, 3),
    }


class Command(BaseCommand):
    help = "Create a synthetic operator: --accounts N personal accounts, ~1.5 N subscriptions (COPY on PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        result = bench_data_create(
            accounts=options["accounts"],
            seed=options["seed"],
            log=None if options["json"] else self.stdout.write,
        )
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            self.stdout.write(
                f"Создано: лицевых счетов {result['accounts']}, подключённых услуг {result['subscriptions']}, "
                f"заблокированных {result['blocked']} ({result['database']}, {result['seconds']:.1f} с)"
            )
