"""Profile of one acquirer notification, in process (not a benchmark; ``python -m bench`` skips it).

    flock /work/helpers/bench.lock .venv/bin/python -m bench._payments_profile [N] [--sql] [--cprofile]

Uses the payments bench database (BENCH_PAYMENTS_DATABASE_URL; run ``python -m bench payments`` once
first so it exists and is migrated). Prepares N authorised card payments like the bench, then sends each
notification through Django's test client; the acquirer client's HTTP calls reach the sandbox acquirer
through the test transport (kabinet.payments.tests.acquirer_fixtures), so every SQL statement is counted
on the side that runs it: our notification request, and the sandbox's status fetch and capture.
Prints queries and milliseconds per notification for each side (and the SQL of the first one with
--sql; a cProfile of all N sorted by cumulative time with --cprofile).
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from typing import Any

from bench.payments import DATABASE_URL, REDIS_URL


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 50
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "KABINET_DEBUG": "false",
            "SANDBOX_ACQUIRER_NOTIFICATIONS": "drop",
            "ACQUIRER_BASE_URL": "http://testserver/sandbox-acquirer/api/v3",
            "LOG_LEVEL": "ERROR",
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import bench.payments as bp
    from kabinet.payments.acquirer import client as client_module
    from kabinet.payments.tests.acquirer_fixtures import DjangoClientAdapter

    bp.NOTIFICATIONS = n
    # cards of their own: the bench's cards may have paid within the same-card interval already
    ids = bp._prepare(settings.SANDBOX_ACQUIRER_SHOP_ID, card_expiry_year=str(2031 + int(time.time()) % 900))

    per_side: Counter[str] = Counter()
    per_side_ms: Counter[str] = Counter()
    first_sql: list[tuple[str, str]] = []

    class Counting(DjangoClientAdapter):
        def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            last = request.path_url.rsplit("/", 1)[-1]
            side = f"sandbox {request.method} {last if request.method == 'POST' else 'payment'}"
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = super().send(request, **kwargs)
                per_side_ms[side] += (time.perf_counter() - started) * 1000
            per_side[side] += len(ctx.captured_queries)
            if not first_sql or len(first_sql) < 200:
                first_sql.extend((side, q["sql"]) for q in ctx.captured_queries)
            return response

    client_module.TRANSPORT_ADAPTERS["http://testserver/"] = Counting()
    browser = Client()
    import json

    profiler = None
    if "--cprofile" in sys.argv:
        import cProfile

        profiler = cProfile.Profile()
    total_queries = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    warmup, ids = ids[:5], ids[5:]
    for pid in warmup:  # imports, connections, caches
        body = json.dumps(
            {"type": "notification", "event": "payment.waiting_for_capture", "object": {"id": pid}}
        )
        browser.post("/payments/notifications/yookassa/", body, content_type="application/json")
    per_side.clear()
    per_side_ms.clear()
    first_sql.clear()
    n = len(ids)
    for i, pid in enumerate(ids):
        body = json.dumps(
            {"type": "notification", "event": "payment.waiting_for_capture", "object": {"id": pid}}
        )
        if profiler:
            profiler.enable()
        with CaptureQueriesContext(connection) as ctx:
            response = browser.post(
                "/payments/notifications/yookassa/", body, content_type="application/json"
            )
        if profiler:
            profiler.disable()
        assert response.status_code == 200, response.content
        total_queries += len(ctx.captured_queries)
        if i == 0 and "--sql" in sys.argv:
            ours = [q["sql"] for q in ctx.captured_queries]
            for side, sql in first_sql:
                print(f"[{side}] {sql[:300]}")
            print("--- all statements of the first notification (ours + sandbox, in order) ---")
            for sql in ours:
                print(sql[:300])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    sandbox_total = sum(per_side.values())
    print(
        f"notifications: {n}, {elapsed / n * 1000:.1f} ms wall, {cpu / n * 1000:.1f} ms CPU each in process "
        "(all three requests, this process only; PostgreSQL not included)"
    )
    print(
        f"queries per notification: {total_queries / n:.1f} total, {(total_queries - sandbox_total) / n:.1f} ours"
    )
    for side, count in sorted(per_side.items()):
        print(f"  {side}: {count / n:.1f} queries, {per_side_ms[side] / n:.1f} ms")
    if profiler:
        import pstats

        stats = pstats.Stats(profiler)
        print(f"Python function calls per notification: {stats.total_calls / n:.0f}")  # type: ignore[attr-defined]
        groups: Counter[str] = Counter()
        group_calls: Counter[str] = Counter()
        for (path, _line, _name), (_cc, calls, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            parts = path.split("site-packages/")
            key = (
                parts[1].split("/")[0] if len(parts) > 1 else ("kabinet" if "/kabinet/" in path else "other")
            )
            if key == "django":
                key = "django/" + parts[1].split("/")[1]
            groups[key] += tottime
            group_calls[key] += calls
        for key, tottime in groups.most_common(12):
            print(
                f"  {key}: {tottime / n * 1000:.1f} ms own time, {group_calls[key] / n:.0f} calls per notification"
            )

        stats.sort_stats("tottime" if "--tottime" in sys.argv else "cumulative").print_stats(45)
    return 0


if __name__ == "__main__":
    sys.exit(main())
