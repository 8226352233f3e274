"""Benchmark: 200 concurrent acquirer notifications for payments on the same 10 personal accounts, end to
end through the HTTP endpoint of a production WSGI server, on PostgreSQL.

    .venv/bin/python -m bench payments        (or ``make bench``)

What runs (all on 127.0.0.1):
- a fresh database ``BENCH_PAYMENTS_DATABASE_URL`` (default .../kabinet_bench_payments, dropped and created);
- two WSGI servers (granian by default, BENCH_SERVER=gunicorn for gunicorn gthread; persistent DB
  connections; extra granian options in BENCH_GRANIAN_EXTRA): the app (1 process x 48 threads), and the
  sandbox acquirer (the same project, 1 x 24) standing in for the acquirer's API; its own notifications
  are switched off;
- 200 card payments (NOTIFICATIONS) on 10 accounts, each authorised at the acquirer (waiting_for_capture,
  a different card each so the 30-minute same-card rule does not cancel them);
- first a warm-up (WARMUP more payments on their own accounts and cards, not measured), so every server
  thread has run the whole path and its statements are prepared, as in a server up for a while;
- every notification POSTed at once (CONCURRENCY keep-alive connections, all driven by one client thread:
  a minimal HTTP/1.1 client, see ``_fire``).
  For each, the app fetches the payment from the acquirer's API, checks the card rules, captures it
  (another API call) and credits it;
- then the same 200 notifications again (a replay must credit nothing).

Checks: exactly one ledger transfer per payment, every account's balance equals its payments, nothing
credited by the replay. Also reports the CPU each process group used per notification (app, sandbox,
PostgreSQL, the client): 2 cores / their sum bounds the throughput. Merges ``notifications``, ``concurrency``, ``credited_once``,
``notifications_per_s``, ``measured_at`` (and a few more ``notifications_*`` keys) into
bench/results/payments.json, keeping the keys other benchmarks wrote there.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import requests

from bench._proc import command_cpu_seconds, own_cpu_seconds, session_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results" / "payments.json"

NOTIFICATIONS = int(os.environ.get("BENCH_NOTIFICATIONS", "200"))
CONCURRENCY = int(os.environ.get("BENCH_NOTIFY_CONCURRENCY", "200"))
ACCOUNTS = 10
DATABASE_URL = os.environ.get(
    "BENCH_PAYMENTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kabinet_bench_payments"
)
REDIS_URL = os.environ.get("BENCH_PAYMENTS_REDIS_URL", "redis://127.0.0.1:6379/14")
# One process per server, many threads. The app's threads mostly wait for the acquirer's API, and the
# notifications that meet at the same step in one process are decided or credited in one transaction
# (kabinet.core.group_commit); the sandbox's captures likewise. One app process of 48 threads did
# 1.1-1.15 times as many notifications a second as two of 24 here, and one sandbox process of 24 spent
# less CPU per capture than two of 12 (2026-11-26). 48 + 24 threads hold 72 database connections, under
# PostgreSQL's default max_connections of 100.
APP_WORKERS = int(os.environ.get("BENCH_APP_WORKERS", "1"))
APP_THREADS = int(os.environ.get("BENCH_APP_THREADS", "48"))
SANDBOX_WORKERS = int(os.environ.get("BENCH_SANDBOX_WORKERS", "1"))
SANDBOX_THREADS = int(os.environ.get("BENCH_SANDBOX_THREADS", "24"))
SERVER = os.environ.get("BENCH_SERVER", "granian")  # granian (WSGI) | gunicorn (gthread)
# Payments processed before the measurement, about six per app server thread.
WARMUP = int(os.environ.get("BENCH_NOTIFY_WARMUP", str(APP_WORKERS * APP_THREADS * 6)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _recreate_database() -> None:
    import psycopg

    parsed = urlparse(DATABASE_URL)
    name = parsed.path.lstrip("/")
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _env(app_port: int, sandbox_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            # Side effects (receipt emails) go to the broker, as in production; no worker is needed here.
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "KABINET_DEBUG": "false",
            "KABINET_VAR_DIR": "/tmp/kabinet-bench-payments",
            "SITE_URL": f"http://127.0.0.1:{app_port}",
            "ACQUIRER_BASE_URL": f"http://127.0.0.1:{sandbox_port}/sandbox-acquirer/api/v3",
            "SANDBOX_ACQUIRER_NOTIFICATIONS": "drop",
            "LOG_LEVEL": "ERROR",
        }
    )
    return env


def _start_server(port: int, env: dict[str, str], workers: int, threads: int) -> subprocess.Popen:
    if SERVER == "gunicorn":
        cmd = [
            str(BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
            "--keep-alive", "30", "--backlog", "1024", "--log-level", "warning",
        ]  # fmt: skip
    else:
        cmd = [
            str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--blocking-threads", str(threads), "--backlog", "1024",
            "--no-log", *os.environ.get("BENCH_GRANIAN_EXTRA", "").split(), "config.wsgi:application",
        ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)


def _wait_up(url: str, proc: subprocess.Popen) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not start")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _prepare(shop_id: str, *, count: int = NOTIFICATIONS, card_expiry_year: str = "2030") -> list[str]:
    """10 accounts and ``count`` payments authorised at the sandbox. Returns acquirer payment ids.
    Cards differ by number; another ``card_expiry_year`` makes another set of cards."""
    from django.db import transaction
    from django.utils import timezone

    from kabinet.billing.services import personal_account_open
    from kabinet.customers.models import Customer
    from kabinet.payments.models import Payment, PaymentEvent
    from kabinet.sandbox_acquirer.models import SandboxPayment

    customer = Customer.objects.create(display_name="Bench payments")
    accounts = [personal_account_open(customer=customer, service_kind="internet") for _ in range(ACCOUNTS)]
    now = timezone.now()
    ids = []
    with transaction.atomic():
        payments = []
        remote = []
        for i in range(count):
            public_id = uuid.uuid4()
            acquirer_id = str(uuid.uuid4())
            amount = 10_000 + (i % 50) * 100
            payments.append(
                Payment(
                    public_id=public_id,
                    personal_account=accounts[i % ACCOUNTS],
                    amount_kopecks=amount,
                    method=Payment.Method.CARD,
                    status=Payment.Status.PENDING,
                    idempotency_key=f"bench:{public_id}",
                    # as on the public page, where the email for the receipt is required
                    receipt_email=f"payer{i}@example.com",
                    acquirer_payment_id=acquirer_id,
                )
            )
            remote.append(
                SandboxPayment(
                    id=acquirer_id,
                    shop_id=shop_id,
                    status=SandboxPayment.Status.WAITING_FOR_CAPTURE,
                    amount_kopecks=amount,
                    return_url="http://127.0.0.1/",
                    metadata={"payment_id": str(public_id)},
                    paid=True,
                    expires_at=now + dt.timedelta(days=7),
                    card_first6="220000",
                    card_last4=f"{i:04d}",
                    card_expiry_month="12",
                    card_expiry_year=card_expiry_year,
                    card_type="Mir",
                    card_issuer_country="RU",
                    card_product_code="classic",
                    payment_method_id=f"pm-bench-{i}",
                    notify=SandboxPayment.Notify.DROP,
                )
            )
            ids.append(acquirer_id)
        created = Payment.objects.bulk_create(payments)
        SandboxPayment.objects.bulk_create(remote)
        PaymentEvent.objects.bulk_create(
            [PaymentEvent(payment=p, kind=PaymentEvent.Kind.ACCEPTED) for p in created]
        )
    return ids


class _Connection:
    """One keep-alive HTTP/1.1 client connection of ``_fire``: sends prepared requests one after another
    and reads just each answer's status and length."""

    def __init__(self, host: str, port: int, requests_: list[bytes]) -> None:
        self.sock = socket.create_connection((host, port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.pending = list(reversed(requests_))
        self.buffer = b""
        self.started = 0.0

    def send_next(self) -> bool:
        if not self.pending:
            return False
        self.started = time.perf_counter()
        self.sock.sendall(self.pending.pop())  # a few hundred bytes: the socket buffer takes them at once
        return True

    def answer(self) -> int | None:
        """The status of the answer now complete in the buffer (taken out of it), or None."""
        head, found, rest = self.buffer.partition(b"\r\n\r\n")
        if not found:
            return None
        lines = head.split(b"\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        if headers.get(b"transfer-encoding") == b"chunked":
            end = rest.find(b"\r\n0\r\n\r\n")
            if not rest.startswith(b"0\r\n\r\n") and end < 0:
                return None
            self.buffer = rest[len(b"0\r\n\r\n") :] if end < 0 else rest[end + len(b"\r\n0\r\n\r\n") :]
        else:
            length = int(headers.get(b"content-length", b"0"))
            if len(rest) < length:
                return None
            self.buffer = rest[length:]
        return int(lines[0].split(b" ", 2)[1])


def _notification_request(host: str, port: int, path: str, payment_id: str) -> bytes:
    body = json.dumps(
        {
            "type": "notification",
            "event": "payment.waiting_for_capture",
            "object": {"id": payment_id, "status": "waiting_for_capture"},
        }
    ).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _fire(url: str, ids: list[str], concurrency: int) -> tuple[float, list[int], list[float]]:
    """POST one notification per id over ``concurrency`` keep-alive connections at once, each sending
    its next notification when the last one is answered.

    One thread drives every connection through ``selectors`` (as wrk does): the load generator shares
    the two CPUs with what it measures, so it should cost as little as it can. (With a thread per
    connection, 200 threads handing the GIL around cost about 0.4 ms of CPU per notification; with
    ``requests``, about 1 ms.)"""
    import selectors

    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    chunks = [ids[i::concurrency] for i in range(concurrency)]
    connections = [
        _Connection(host, port, [_notification_request(host, port, parsed.path, pid) for pid in chunk])
        for chunk in chunks
        if chunk
    ]
    statuses: list[int] = []
    latencies: list[float] = []
    selector = selectors.DefaultSelector()
    started = time.perf_counter()
    for connection in connections:
        connection.send_next()
        selector.register(connection.sock, selectors.EVENT_READ, connection)
    open_ = len(connections)
    while open_:
        for key, _events in selector.select(timeout=120):
            connection = key.data
            try:
                chunk = connection.sock.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:  # closed by the server: the rest of its notifications count as failed
                statuses.extend([0] * (len(connection.pending) + 1))
                selector.unregister(connection.sock)
                open_ -= 1
                continue
            connection.buffer += chunk
            status = connection.answer()
            if status is None:
                continue
            statuses.append(status)
            latencies.append(time.perf_counter() - connection.started)
            if not connection.send_next():
                selector.unregister(connection.sock)
                connection.sock.close()
                open_ -= 1
    elapsed = time.perf_counter() - started
    selector.close()
    return elapsed, statuses, latencies


def _warm_sandbox(port: int, count: int) -> None:
    """Every sandbox worker loads its URLs and modules before the measurement: the warm-up
    notifications above never reach the sandbox (unknown payments are ignored without asking)."""
    from django.conf import settings

    auth = (settings.SANDBOX_ACQUIRER_SHOP_ID, settings.SANDBOX_ACQUIRER_SECRET_KEY)
    url = f"http://127.0.0.1:{port}/sandbox-acquirer/api/v3/payments/warmup-unknown"

    def one() -> None:
        with requests.Session() as session:
            for _ in range(2):
                session.get(url, auth=auth, timeout=30)

    threads = [threading.Thread(target=one) for _ in range(max(1, count // 2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _check() -> dict[str, Any]:
    from django.db.models import Count, Sum

    from kabinet.billing.models import LedgerTransfer, PersonalAccount
    from kabinet.payments.models import Payment

    transfers = LedgerTransfer.objects.filter(kind=LedgerTransfer.Kind.PAYMENT, key__startswith="payment:")
    per_key = transfers.values("key").annotate(n=Count("id")).filter(n__gt=1).count()
    succeeded = Payment.objects.filter(status=Payment.Status.SUCCEEDED, transfer__isnull=False).count()
    balances_ok = True
    for account in PersonalAccount.objects.select_related("ledger_account"):
        expected = (
            Payment.objects.filter(personal_account=account, status=Payment.Status.SUCCEEDED).aggregate(
                s=Sum("amount_kopecks")
            )["s"]
            or 0
        )
        balances_ok &= account.ledger_account.balance_kopecks == expected
    return {
        "transfers": transfers.count(),
        "duplicate_keys": per_key,
        "succeeded": succeeded,
        "balances_ok": balances_ok,
    }


def _batches(ids: list[str]) -> dict[str, int]:
    """How many transactions decided and credited these payments: a batch (kabinet.core.group_commit)
    stamps all its payments with one time."""
    from kabinet.payments.models import Payment

    measured = Payment.objects.filter(acquirer_payment_id__in=ids)
    return {
        "decisions": measured.values("paid_at").distinct().count(),
        "credits": measured.values("credited_at").distinct().count(),
    }


def _cpu(app_session: int, sandbox_session: int) -> dict[str, float]:
    return {
        "app": session_cpu_seconds({app_session}),
        "sandbox": session_cpu_seconds({sandbox_session}),
        "postgresql": command_cpu_seconds("postgres"),
        "client": own_cpu_seconds(),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> int:
    _recreate_database()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # the receipts queued by earlier runs (no worker here)
    app_port, sandbox_port = _free_port(), _free_port()
    env = _env(app_port, sandbox_port)
    os.environ.update(
        {
            k: env[k]
            for k in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE")
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    ids = _prepare(settings.SANDBOX_ACQUIRER_SHOP_ID)
    # Warm-up payments on their own accounts and cards (the same-card rule must not see them): every
    # server thread runs the whole path a few times first, so its statements are prepared and its
    # connections open, as in a server that has been up for a while.
    warmup_ids = _prepare(settings.SANDBOX_ACQUIRER_SHOP_ID, count=WARMUP, card_expiry_year="2029")
    from django.db import connections

    connections.close_all()
    app = _start_server(app_port, env, APP_WORKERS, APP_THREADS)
    sandbox = _start_server(sandbox_port, env, SANDBOX_WORKERS, SANDBOX_THREADS)
    try:
        _wait_up(f"http://127.0.0.1:{app_port}/api/v1/health", app)
        _wait_up(f"http://127.0.0.1:{sandbox_port}/api/v1/health", sandbox)
        url = f"http://127.0.0.1:{app_port}/payments/notifications/yookassa/"
        # warm up every worker thread of both servers (see WARMUP)
        _warm_sandbox(sandbox_port, SANDBOX_WORKERS * SANDBOX_THREADS * 2)
        _fire(url, warmup_ids, APP_WORKERS * APP_THREADS)
        before = _cpu(app.pid, sandbox.pid)
        elapsed, statuses, latencies = _fire(url, ids, min(CONCURRENCY, len(ids)))
        cpu = {k: v - before[k] for k, v in _cpu(app.pid, sandbox.pid).items()}
        cpu_used = cpu["app"] + cpu["sandbox"]
        first = _check()
        batches = _batches(ids)
        replay_elapsed, replay_statuses, _lat = _fire(url, ids, min(CONCURRENCY, len(ids)))
        second = _check()
    finally:
        _stop(app)
        _stop(sandbox)
    total = NOTIFICATIONS + WARMUP
    credited_once = (
        first["succeeded"] == total
        and first["transfers"] == total
        and first["duplicate_keys"] == 0
        and first["balances_ok"]
        and second["transfers"] == total
        and second["balances_ok"]
    )
    result = {
        "notifications": NOTIFICATIONS,
        "concurrency": min(CONCURRENCY, len(ids)),
        "accounts": ACCOUNTS,
        "notifications_warmup": WARMUP,
        "credited_once": credited_once,
        "notifications_per_s": round(NOTIFICATIONS / elapsed, 1),
        "notifications_s": round(elapsed, 3),
        "notifications_p50_ms": round(_percentile(latencies, 0.5) * 1000, 1),
        "notifications_p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
        "notifications_http_ok": sum(1 for s in statuses if s == 200),
        "notifications_replay_per_s": round(NOTIFICATIONS / replay_elapsed, 1),
        "notifications_replay_credited": second["transfers"] - first["transfers"],
        "notifications_replay_http_ok": sum(1 for s in replay_statuses if s == 200),
        "notifications_server": (
            f"{SERVER} {APP_WORKERS} workers x {APP_THREADS} threads (app), "
            f"{SANDBOX_WORKERS} x {SANDBOX_THREADS} (sandbox acquirer)"
        ),
        "notifications_load_average": round(os.getloadavg()[0], 1),
        # transactions that decided and credited the measured payments (batches of concurrent ones)
        "notifications_decision_transactions": batches["decisions"],
        "notifications_credit_transactions": batches["credits"],
        # CPU of the app and sandbox servers per notification (PostgreSQL not included): with 2 idle
        # cores the servers alone could do at most 2 / this many notifications per second.
        "notifications_server_cpu_ms_each": round(cpu_used / NOTIFICATIONS * 1000, 1),
        # The same split by process (postgresql: every backend; client: this process's threads).
        "notifications_cpu_ms_each": {k: round(v / NOTIFICATIONS * 1000, 2) for k, v in cpu.items()},
        "measured_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
    merged: dict[str, Any] = {}
    if RESULTS.exists():
        try:
            merged = json.loads(RESULTS.read_text(encoding="utf-8"))
        except ValueError:
            merged = {}
    merged.update(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if credited_once else 1


if __name__ == "__main__":
    sys.exit(main())
