"""Benchmark: import a 100 000-line bank payment registry on PostgreSQL, then import it again.

    .venv/bin/python -m bench.registry        (or `make bench`, which runs every bench module)

Uses a fresh database ``BENCH_REGISTRY_DATABASE_URL`` (default .../kabinet_bench_registry, dropped and
created) in a child process. Creates 10 000 personal accounts, writes a registry file with 100 000 lines for a bank name
unique to this run, times ``kabinet payments import-registry`` logic (kabinet.payments.registries)
and the rerun of the same file, checks the ledger, and merges ``registry_lines``, ``registry_import_s``,
``registry_reimport_credited`` and ``measured_at`` into bench/results/payments.json (other keys kept).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

RESULTS = Path(__file__).resolve().parent / "results" / "payments.json"
DATABASE_URL = os.environ.get(
    "BENCH_REGISTRY_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kabinet_bench_registry"
)
CHILD = "BENCH_REGISTRY_CHILD"
LINES = int(os.environ.get("BENCH_REGISTRY_LINES", "100000"))
ACCOUNTS = int(os.environ.get("BENCH_REGISTRY_ACCOUNTS", "10000"))


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    import django

    django.setup()


def _accounts(n: int) -> list[str]:
    """``n`` personal accounts of a bench customer (bulk-created once; reused on later runs)."""
    from django.db import transaction

    from kabinet.billing.models import LedgerAccount, PersonalAccount
    from kabinet.billing.numbers import personal_account_number_from_base
    from kabinet.customers.models import Customer

    base = 800_000_000
    numbers = [personal_account_number_from_base(base + i) for i in range(n)]
    have = set(PersonalAccount.objects.filter(number__in=numbers).values_list("number", flat=True))
    missing = [x for x in numbers if x not in have]
    if missing:
        with transaction.atomic():
            customer, _created = Customer.objects.get_or_create(display_name="Bench registry customer")
            ledgers = LedgerAccount.objects.bulk_create(
                [LedgerAccount(code=f"pa:{x}", kind=LedgerAccount.Kind.SUBSCRIBER) for x in missing],
                batch_size=5000,
            )
            PersonalAccount.objects.bulk_create(
                [
                    PersonalAccount(number=x, customer=customer, service_kind="internet", ledger_account=la)
                    for x, la in zip(missing, ledgers, strict=True)
                ],
                batch_size=5000,
            )
    return numbers


def _recreate_database() -> None:
    import psycopg

    parsed = urlparse(DATABASE_URL)
    name = parsed.path.lstrip("/")
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    if not os.environ.get(CHILD):
        _recreate_database()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_"))}
        env.update({CHILD: "1", "DATABASE_URL": DATABASE_URL, "DJANGO_SETTINGS_MODULE": "config.settings"})
        root = Path(__file__).resolve().parent.parent
        return subprocess.call([sys.executable, "-m", "bench.registry"], env=env, cwd=root)
    _setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Sum

    from kabinet.billing.models import LedgerAccount, LedgerTransfer
    from kabinet.payments.registries import registry_import

    if connection.vendor != "postgresql":
        print("bench.registry needs PostgreSQL: set DATABASE_URL=postgres://...", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    numbers = _accounts(ACCOUNTS)
    # Planner statistics as a live database has them (a fresh bench database has none yet).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    bank = f"BENCH-{int(time.time())}"
    rows = ["bank;date;transaction_id;account;amount;payer"]
    total = 0
    for i in range(LINES):
        amount = 10_000 + (i % 500) * 100  # 100 ₽ .. 599 ₽
        total += amount
        rows.append(f"{bank};25.11.2026;{i:08d};{numbers[i % len(numbers)]};{amount // 100};Плательщик {i}")
    data = ("\n".join(rows) + "\n").encode("utf-8")

    started, cpu = time.perf_counter(), time.process_time()
    first = registry_import(data=data, file_name=f"{bank}.csv")
    import_s, import_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    again = registry_import(data=data, file_name=f"{bank}.csv")
    reimport_s, reimport_cpu_s = time.perf_counter() - started, time.process_time() - cpu

    credited_sum = (
        LedgerTransfer.objects.filter(key__startswith=f"registry:{bank}:").aggregate(s=Sum("amount_kopecks"))[
            "s"
        ]
        or 0
    )
    ledger_total = LedgerAccount.objects.aggregate(s=Sum("balance_kopecks"))["s"]
    ok = first.credited == LINES and again.credited == 0 and credited_sum == total and ledger_total == 0
    result = {
        "registry_lines": LINES,
        "registry_import_s": round(import_s, 2),
        "registry_lines_per_s": round(LINES / import_s),
        "registry_import_cpu_s": round(import_cpu_s, 2),
        "registry_reimport_s": round(reimport_s, 2),
        "registry_reimport_cpu_s": round(reimport_cpu_s, 2),
        "registry_load_average": round(os.getloadavg()[0], 1),
        "registry_reimport_credited": again.credited,
        "registry_credited_once": ok,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged.update(result)
    RESULTS.write_text(json.dumps(merged, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
