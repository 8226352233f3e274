"""Billing run benchmark on PostgreSQL (``make bench`` or ``python -m bench billing``).

Measures, in one go on a fresh database of ``BENCH_ACCOUNTS`` personal accounts (default 1,000,000):

- ``floor_s``: bare SQL with no framework (psycopg): one ``INSERT ... SELECT`` writing the day's charges
  and one ``UPDATE ... FROM`` writing the same balance changes, committed;
- ``daily_run_s``: ``kabinet billing run`` for a day (in-process), with charges/s and peak RSS;
- ``rerun_s``: the same date again (must move nothing);
- ``monthly_run_s``: the first of a month (every monthly and daily fee);
- ``naive_s_per_1000_accounts``: the ORM one account at a time (``ledger_transfer_post`` per charge) on
  ``BENCH_NAIVE_ACCOUNTS`` (10,000) accounts;
- ``workers``: the daily run dispatched as Celery tasks to 1 and then 2 worker processes over a real
  Redis broker (workers started and stopped here);
- ``ledger_verify_s``: ``kabinet ledger verify`` over everything, which must pass.

Every date is a different day so every measured run writes fresh transfers. Results go to
``bench/results/billing.json`` and a table to ``docs/benchmarks.md``. Everything runs on 127.0.0.1.
Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kabinet_bench; dropped and
created afresh), BENCH_ACCOUNTS, BENCH_NAIVE_ACCOUNTS, BENCH_REDIS_URL (default redis://127.0.0.1:6379/15),
BENCH_KEEP_DB=1 to reuse an existing database with its data (with BENCH_SHIFT_MONTHS=N to bill other
dates than the first time).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results" / "billing.json"
DOC = ROOT / "docs" / "benchmarks.md"


def _shifted(day: dt.date) -> dt.date:
    """BENCH_SHIFT_MONTHS moves every date (to rerun with BENCH_KEEP_DB=1 on days not billed yet)."""
    months = int(os.environ.get("BENCH_SHIFT_MONTHS", "0"))
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


FLOOR_DATE = _shifted(dt.date(2026, 11, 24))
DAILY_DATE = _shifted(dt.date(2026, 11, 25))
MONTHLY_DATE = _shifted(dt.date(2026, 12, 1))
NAIVE_DATE = _shifted(dt.date(2026, 12, 2))
WORKERS_DATES = {1: _shifted(dt.date(2026, 12, 3)), 2: _shifted(dt.date(2026, 12, 4))}


def _config() -> dict[str, Any]:
    return {
        "database_url": os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kabinet_bench"
        ),
        "accounts": int(os.environ.get("BENCH_ACCOUNTS", "1000000")),
        "naive_accounts": int(os.environ.get("BENCH_NAIVE_ACCOUNTS", "10000")),
        "redis_url": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        "keep_db": os.environ.get("BENCH_KEEP_DB", "") == "1",
    }


def _log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# --- Processes -------------------------------------------------------------------------------------


def _env(cfg: dict[str, Any], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_"))}
    env.update(
        DATABASE_URL=cfg["database_url"],
        KABINET_VAR_DIR=os.environ.get("BENCH_VAR_DIR", "/tmp/kabinet-bench"),
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _measure(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a process to the end: wall seconds, its own peak RSS (wait4), exit status and stdout."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out_chunks: list[str] = []
    err_chunks: list[str] = []
    readers = [
        threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()), daemon=True),  # type: ignore[union-attr]
        threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True),  # type: ignore[union-attr]
    ]
    for reader in readers:
        reader.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    for reader in readers:
        reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = "".join(out_chunks), "".join(err_chunks)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stdout[-2000:]}\n{stderr[-4000:]}")
    return {"seconds": seconds, "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "stdout": stdout}


def _kabinet(cfg: dict[str, Any], *args: str, **env: str) -> dict[str, Any]:
    return _measure([str(BIN / "kabinet"), *args], _env(cfg, **env))


def _last_json(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON in output: {stdout[-500:]}")


# --- Database ---------------------------------------------------------------------------------------


def _connect(url: str, *, autocommit: bool = True) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=autocommit)


def _recreate_database(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = urlunparse(parsed._replace(path="/postgres"))
    with _connect(admin) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _database_exists(url: str) -> bool:
    parsed = urlparse(url)
    admin = urlunparse(parsed._replace(path="/postgres"))
    with _connect(admin) as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [parsed.path.lstrip("/")]
        ).fetchone()
    return row is not None


LOAD: list[float] = []


def _settle(url: str) -> None:
    """Same starting point for every timed phase: statistics fresh, dirty pages flushed."""
    with _connect(url) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
    LOAD.append(os.getloadavg()[0])  # other work on the machine skews every figure: record it


def _counts(url: str) -> dict[str, int]:
    with _connect(url) as conn:
        accounts = conn.execute("SELECT COUNT(*) FROM billing_personalaccount").fetchone()[0]
        subs = conn.execute("SELECT COUNT(*) FROM billing_subscription").fetchone()[0]
        daily = conn.execute(
            "SELECT COUNT(*) FROM billing_subscription s JOIN billing_personalaccount pa "
            "ON pa.id = s.personal_account_id WHERE s.period = 'day' AND s.status = 'active' AND pa.status = 'active'"
        ).fetchone()[0]
        version = conn.execute("SHOW server_version").fetchone()[0]
    return {"accounts": accounts, "subscriptions": subs, "daily_due": daily, "server_version": version}


FLOOR_SOURCE = """
    FROM billing_subscription s
    JOIN billing_personalaccount pa ON pa.id = s.personal_account_id
    JOIN catalog_tariff t ON t.id = s.tariff_id
    JOIN billing_ledgeraccount r ON r.code = 'revenue:' || t.service_kind
    WHERE pa.status = 'active' AND s.status = 'active' AND s.period = 'day'
      AND s.started_on <= %(day)s AND (s.ended_on IS NULL OR s.ended_on >= %(day)s)
"""


def _floor(url: str, day: dt.date) -> dict[str, Any]:
    """The bare SQL: the day's daily charges and the same balance changes, one transaction."""
    params = {"day": day, "key": day.isoformat(), "text": day.strftime("%d.%m.%Y")}
    started = time.monotonic()
    with _connect(url, autocommit=False) as conn:
        inserted = conn.execute(
            f"""
            INSERT INTO billing_ledgertransfer (key, debit_account_id, credit_account_id, amount_kopecks, kind,
              value_date, description, subscription_id, created_at, ref, reason)
            SELECT 'charge:' || s.id || ':' || %(key)s, pa.ledger_account_id, r.id, s.price_kopecks, 'charge',
                   %(day)s, 'Абонентская плата по тарифу «' || t.name || '» за ' || %(text)s, s.id, now(), '', ''
            {FLOOR_SOURCE}
            """,
            params,
        ).rowcount
        updated = conn.execute(
            f"""
            UPDATE billing_ledgeraccount la SET balance_kopecks = la.balance_kopecks + d.delta
            FROM (SELECT lid, SUM(delta) AS delta FROM (
                    SELECT pa.ledger_account_id AS lid, -s.price_kopecks AS delta {FLOOR_SOURCE}
                    UNION ALL
                    SELECT r.id, s.price_kopecks {FLOOR_SOURCE}) moves
                  GROUP BY lid) d
            WHERE la.id = d.lid
            """,
            params,
        ).rowcount
        conn.commit()
    return {"seconds": time.monotonic() - started, "charges": inserted, "balances_updated": updated}


# --- Celery workers ------------------------------------------------------------------------------------


def _flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _start_workers(cfg: dict[str, Any], count: int, env: dict[str, str]) -> list[subprocess.Popen[str]]:
    procs = []
    ready: queue.Queue[str] = queue.Queue()
    for index in range(count):
        proc = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "config.celery:app",
                "worker",
                "-Q",
                "billing",
                "-c",
                "1",
                "-n",
                f"bench{index + 1}-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "info",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        procs.append(proc)

        def watch(p: subprocess.Popen[str] = proc) -> None:
            for line in p.stdout:  # type: ignore[union-attr]
                if " ready." in line:
                    ready.put(line)

        threading.Thread(target=watch, daemon=True).start()
    deadline = time.monotonic() + 120
    for _ in range(count):
        ready.get(timeout=max(1.0, deadline - time.monotonic()))
    return procs


def _stop_workers(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _workers_run(cfg: dict[str, Any], count: int, day: dt.date) -> dict[str, Any]:
    celery_env = {
        "CELERY_BROKER_URL": cfg["redis_url"],
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    env = _env(cfg, **celery_env)
    _flush_redis(cfg["redis_url"])
    procs = _start_workers(cfg, count, env)
    try:
        result = _measure(
            [
                str(BIN / "kabinet"),
                "billing",
                "run",
                "--date",
                day.isoformat(),
                "--workers",
                str(count),
                "--json",
            ],
            env,
        )
    finally:
        _stop_workers(procs)
        _flush_redis(cfg["redis_url"])
    summary = _last_json(result["stdout"])
    return {
        "seconds": round(result["seconds"], 2),
        "charges": summary["charges"],
        "status": summary["status"],
    }


# --- Naive: the ORM one account at a time (runs inside Django, in a subprocess) -----------------------------


def naive_run(*, run_date: dt.date, accounts: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import transaction

    from kabinet.billing.models import LedgerAccount, PersonalAccount, Subscription
    from kabinet.billing.run import month_label
    from kabinet.billing.services import (
        ledger_account_system,
        ledger_transfer_post,
        personal_account_set_status,
        revenue_account_code,
    )

    revenue = {
        kind: ledger_account_system(code=revenue_account_code(kind)) for kind in ("mobile", "internet", "tv")
    }
    started = time.monotonic()
    charges = 0
    for account in (
        PersonalAccount.objects.filter(status="active")
        .select_related("ledger_account")
        .order_by("pk")[:accounts]
    ):
        with transaction.atomic():
            for sub in Subscription.objects.filter(personal_account=account, status="active").select_related(
                "tariff"
            ):
                if sub.period == "day":
                    key, label = f"charge:{sub.pk}:{run_date.isoformat()}", run_date.strftime("%d.%m.%Y")
                elif run_date.day == 1:
                    key, label = f"charge:{sub.pk}:{run_date:%Y-%m}", month_label(run_date)
                else:
                    continue
                ledger_transfer_post(
                    key=key,
                    debit=account.ledger_account,
                    credit=revenue[sub.tariff.service_kind],
                    amount_kopecks=sub.price_kopecks,
                    kind="charge",
                    value_date=run_date,
                    description=f"Абонентская плата по тарифу «{sub.tariff.name}» за {label}",
                    subscription=sub,
                )
                charges += 1
            balance = LedgerAccount.objects.values_list("balance_kopecks", flat=True).get(
                pk=account.ledger_account_id
            )
            if balance + account.credit_limit_kopecks < 0:
                personal_account_set_status(personal_account=account, status="blocked_debt", reason="bench")
    return {"seconds": time.monotonic() - started, "accounts": accounts, "charges": charges}


# --- The benchmark --------------------------------------------------------------------------------------


def _run_phase(cfg: dict[str, Any], name: str, day: dt.date) -> dict[str, Any]:
    _settle(cfg["database_url"])
    _log(f"{name}: kabinet billing run --date {day}")
    measured = _kabinet(cfg, "billing", "run", "--date", day.isoformat(), "--in-process", "--json")
    summary = _last_json(measured["stdout"])
    # The run's own time (from the command's start of work to its end); the process wall time adds
    # interpreter and Django start-up, reported beside it.
    seconds = summary["seconds"]
    result = {
        "date": day.isoformat(),
        "run_s": round(seconds, 2),
        "process_wall_s": round(measured["seconds"], 2),
        "charges": summary["charges"],
        "accounts_charged": summary["accounts"],
        "total_kopecks": summary["total_kopecks"],
        "blocked": summary["blocked"],
        "chunks": summary["chunks"],
        "chunks_skipped": summary["chunks_skipped"],
        "charges_per_s": round(summary["charges"] / seconds) if seconds else None,
        "peak_rss_mb": measured["peak_rss_mb"],
    }
    _log(f"{name}: {result}")
    return result


def main() -> int:
    cfg = _config()
    url = cfg["database_url"]
    results: dict[str, Any] = {"database": "postgresql", "host": platform.node(), "cpus": os.cpu_count()}
    started = time.monotonic()
    if cfg["keep_db"] and _database_exists(url):
        _log(f"reusing {url}")
        if RESULTS.exists():  # the data was made by an earlier run: keep its figures
            earlier = json.loads(RESULTS.read_text(encoding="utf-8"))
            results.update({k: v for k, v in earlier.items() if k.startswith("bench_data")})
        results["reused_database"] = True
    else:
        _log(f"creating {url} afresh")
        _recreate_database(url)
        _kabinet(cfg, "migrate", "--noinput", "-v", "0")
        _log(f"bench-data --accounts {cfg['accounts']}")
        data = _kabinet(cfg, "bench-data", "--accounts", str(cfg["accounts"]), "--json")
        results["bench_data_s"] = round(data["seconds"], 1)
        results["bench_data_peak_rss_mb"] = data["peak_rss_mb"]
        _log(f"bench-data: {data['seconds']:.1f} s, peak RSS {data['peak_rss_mb']} MB")
    counts = _counts(url)
    results.update(
        accounts=counts["accounts"],
        subscriptions=counts["subscriptions"],
        daily_subscriptions_due=counts["daily_due"],
        postgresql=counts["server_version"],
        chunk_size=int(os.environ.get("BILLING_CHUNK_SIZE", "20000")),
    )
    _settle(url)
    _log(f"floor: bare INSERT ... SELECT + UPDATE ... FROM for {FLOOR_DATE}")
    floor = _floor(url, FLOOR_DATE)
    _log(f"floor: {floor}")
    results["floor_s"] = round(floor["seconds"], 2)
    results["floor_charges"] = floor["charges"]

    daily = _run_phase(cfg, "daily", DAILY_DATE)
    rerun = _run_phase(cfg, "rerun", DAILY_DATE)
    monthly = _run_phase(cfg, "monthly", MONTHLY_DATE)
    results.update(
        daily_run_s=daily["run_s"],
        daily=daily,
        rerun_s=rerun["run_s"],
        rerun=rerun,
        monthly_run_s=monthly["run_s"],
        monthly=monthly,
        peak_rss_mb=max(daily["peak_rss_mb"], rerun["peak_rss_mb"], monthly["peak_rss_mb"]),
    )

    _settle(url)
    _log(f"naive: ORM one account at a time, {cfg['naive_accounts']} accounts")
    naive = _measure(
        [
            sys.executable,
            "-c",
            "import json, sys, datetime as dt; from bench.billing import naive_run; "
            f"print(json.dumps(naive_run(run_date=dt.date.fromisoformat('{NAIVE_DATE}'), "
            f"accounts={cfg['naive_accounts']})))",
        ],
        _env(cfg),
    )
    naive_result = _last_json(naive["stdout"])
    results["naive"] = {**naive_result, "seconds": round(naive_result["seconds"], 2)}
    results["naive_s_per_1000_accounts"] = round(naive_result["seconds"] / naive_result["accounts"] * 1000, 2)
    results["naive_extrapolated_s"] = round(
        results["naive_s_per_1000_accounts"] * counts["accounts"] / 1000, 1
    )
    _log(f"naive: {results['naive']}")

    workers: dict[str, Any] = {"broker": "redis", "concurrency_per_worker": 1}
    for count, day in WORKERS_DATES.items():
        _settle(url)
        _log(f"celery: {count} worker(s), daily run for {day}")
        workers[str(count)] = _workers_run(cfg, count, day)
        _log(f"celery {count}: {workers[str(count)]}")
    one, two = workers["1"]["seconds"], workers["2"]["seconds"]
    workers["speedup_2_vs_1"] = round(one / two, 2) if two else None
    results["workers"] = workers

    _log("ledger verify")
    verify = _kabinet(cfg, "ledger", "verify", "--json")
    verify_result = _last_json(verify["stdout"])
    results["ledger_verify_s"] = round(verify["seconds"], 1)
    results["ledger_ok"] = verify_result["ok"]

    results["daily_vs_floor"] = round(results["daily_run_s"] / results["floor_s"], 2)
    results["rerun_vs_daily"] = round(results["rerun_s"] / results["daily_run_s"], 4)
    results["targets"] = {
        "daily_within_2x_floor": results["daily_vs_floor"] <= 2.0,
        "rerun_under_10_percent": results["rerun_vs_daily"] < 0.10,
    }
    results["load_average_1min"] = {"min": min(LOAD), "max": max(LOAD)} if LOAD else None
    results["bench_total_s"] = round(time.monotonic() - started, 1)
    results["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    _write_doc(results)
    _log(f"wrote {RESULTS.relative_to(ROOT)} and {DOC.relative_to(ROOT)}")
    return 0 if results["ledger_ok"] else 1


def _write_doc(r: dict[str, Any]) -> None:
    w = r["workers"]
    rows = [
        (
            "Floor: bare `INSERT ... SELECT` + `UPDATE ... FROM` (one day)",
            r["floor_s"],
            r["floor_charges"],
            "—",
        ),
        (
            "Daily run (`kabinet billing run`, in-process)",
            r["daily_run_s"],
            r["daily"]["charges"],
            r["daily"]["peak_rss_mb"],
        ),
        ("Same date again (rerun)", r["rerun_s"], r["rerun"]["charges"], r["rerun"]["peak_rss_mb"]),
        ("First of the month", r["monthly_run_s"], r["monthly"]["charges"], r["monthly"]["peak_rss_mb"]),
        ("Daily run, 1 Celery worker (Redis)", w["1"]["seconds"], w["1"]["charges"], "—"),
        ("Daily run, 2 Celery workers (Redis)", w["2"]["seconds"], w["2"]["charges"], "—"),
        (
            f"Naive ORM, one account at a time ({r['naive']['accounts']} accounts)",
            r["naive"]["seconds"],
            r["naive"]["charges"],
            "—",
        ),
    ]
    lines = [
        BEGIN,
        "## Billing run",
        "",
        f"Measured by `make bench` (`bench/billing.py`) on {r['measured_at']}: PostgreSQL {r['postgresql']}, "
        f"{r['accounts']:,} personal accounts, {r['subscriptions']:,} subscriptions "
        f"({r['daily_subscriptions_due']:,} daily fees due a day), {r['cpus']} CPUs, chunks of "
        f"{r['chunk_size']:,} accounts. Raw figures: `bench/results/billing.json`.",
        "",
        "| What | Seconds | Charges | Peak RSS, MB |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {sec} | {charges:,} | {rss} |" for name, sec, charges, rss in rows]
    lines += [
        "",
        f"- Daily run / floor: **{r['daily_vs_floor']}×** (target ≤ 2×); "
        f"{r['daily']['charges_per_s']:,} charges/s.",
        f"- Rerun / daily run: **{r['rerun_vs_daily'] * 100:.2f}%** (target < 10%): every chunk is skipped by "
        "its done marker without touching a transfer.",
        f"- First of the month: {r['monthly']['charges_per_s']:,} charges/s.",
        f"- Naive ORM: {r['naive_s_per_1000_accounts']} s per 1,000 accounts, about "
        f"{r['naive_extrapolated_s'] / 60:.0f} minutes for all {r['accounts']:,}.",
        f"- 2 Celery workers vs 1: **{w['speedup_2_vs_1']}×** faster.",
        f"- Peak RSS of the run process: {r['peak_rss_mb']} MB (one chunk's counters in memory, independent of N).",
        f"- `kabinet ledger verify` after all runs: {'passed' if r['ledger_ok'] else 'FAILED'} "
        f"in {r['ledger_verify_s']} s.",
        "",
        "The floor and every run include the deferred foreign-key checks at commit; each timed phase starts",
        "after `VACUUM ANALYZE` and `CHECKPOINT`. Load average (1 min) before the phases: "
        + (
            f"{r['load_average_1min']['min']:.1f}-{r['load_average_1min']['max']:.1f}"
            if r.get("load_average_1min")
            else "n/a"
        )
        + f" on {r['cpus']} CPUs; on a shared machine every absolute figure moves with it.",
        END,
    ]
    _replace_section(DOC, "\n".join(lines))


BEGIN = "<!-- bench.billing: begin (written by bench/billing.py) -->"
END = "<!-- bench.billing: end -->"


def _replace_section(path: Path, section: str) -> None:
    """Put the billing section into docs/benchmarks.md, keeping other benchmarks' sections."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
