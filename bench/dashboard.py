"""Dashboard load benchmark (``make bench`` or ``python -m bench dashboard``).

On PostgreSQL with the bench data set (``BENCH_ACCOUNTS`` personal accounts, default 1,000,000; made by
``kabinet bench-data`` when the database is missing or smaller, reused otherwise, so it shares the data of
``bench/billing.py``):

1. ``BENCH_DASHBOARD_USERS`` cabinet users (default 20) are created, each linked to three accounts of the
   data set (mobile, internet, TV) spread over the whole table;
2. the production web server starts: granian in WSGI mode (``BENCH_SERVER=gunicorn`` for gunicorn gthread),
   ``BENCH_APP_WORKERS`` workers x ``BENCH_APP_THREADS`` threads (2 x 4: the best of 2 x 2, 2 x 4, 2 x 8,
   3 x 3, 4 x 2 here), persistent database connections (CONN_MAX_AGE) with prepared statements, Redis
   cache, DEBUG off, serving ``bench/_dashboard_floor.py``: the project plus the two floors;
3. every user logs in over HTTP (the real allauth login form) and gets a session;
4. for each session the SQL statements Django runs for ``GET /cabinet/`` are captured (one in-process
   request with the same settings), and those the middleware runs for any logged-in request (the user)
   are told apart from those of the dashboard view;
5. load: ``wrk`` (Debian package; a Python thread load generator when wrk is missing), ``BENCH_CONNECTIONS``
   (50) keep-alive connections for ``BENCH_DASHBOARD_SECONDS`` (20 s) after a warm-up, logged-in dashboard
   requests rotating over the sessions; then the same for the floor, and for the Django-free floor, on the
   same server. The floor is the issue's "bare view that runs the same SQL statements through psycopg and
   returns the rows as JSON, with no ORM and no template": a plain Django view behind the same middleware,
   replaying the view's statements on a psycopg connection. The Django-free floor replays all of them in a
   bare WSGI callable, for reference.
   During each load the CPU used by the server's processes and by the whole machine is recorded
   (``/proc``), per request.

Writes ``bench/results/dashboard.json`` and a section of ``docs/benchmarks.md``. Everything is on
127.0.0.1, bounded in time, and the server is stopped at the end. Targets: p95 < 100 ms at 50
connections, and at least 50% of the floor's throughput (reported, never asserted).

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kabinet_bench),
BENCH_DASHBOARD_REDIS_URL (redis://127.0.0.1:6379/13), BENCH_ACCOUNTS, BENCH_DASHBOARD_USERS,
BENCH_CONNECTIONS, BENCH_DASHBOARD_SECONDS, BENCH_WARMUP_SECONDS, BENCH_SERVER, BENCH_APP_WORKERS,
BENCH_APP_THREADS, BENCH_LOAD_GENERATOR (wrk | python).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from bench._proc import machine_busy_cpu_seconds, session_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results" / "dashboard.json"
DOC = ROOT / "docs" / "benchmarks.md"
WORK = Path(os.environ.get("BENCH_DASHBOARD_VAR_DIR", "/tmp/kabinet-bench-dashboard"))

PASSWORD = "Bench-dashboard-2026"
EMAIL = "bench-dashboard-{}@example.ru"
KINDS = ("mobile", "internet", "tv")


def _config() -> dict[str, Any]:
    env = os.environ.get
    return {
        "database_url": env("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kabinet_bench"),
        "redis_url": env("BENCH_DASHBOARD_REDIS_URL", "redis://127.0.0.1:6379/13"),
        "accounts": int(env("BENCH_ACCOUNTS", "1000000")),
        "users": int(env("BENCH_DASHBOARD_USERS", "20")),
        "connections": int(env("BENCH_CONNECTIONS", "50")),
        "seconds": int(env("BENCH_DASHBOARD_SECONDS", "20")),
        "warmup": int(env("BENCH_WARMUP_SECONDS", "5")),
        "server": env("BENCH_SERVER", "granian"),
        "workers": int(env("BENCH_APP_WORKERS", "2")),
        "threads": int(env("BENCH_APP_THREADS", "4")),
    }


def _log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] dashboard: {text}", flush=True)


def _env(cfg: dict[str, Any], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=cfg["database_url"],
        REDIS_URL=cfg["redis_url"],
        # Side effects of a login (new-device notice) are queued on the broker, as in production.
        CELERY_TASK_ALWAYS_EAGER="false",
        KABINET_DEBUG="false",
        KABINET_VAR_DIR=str(WORK / "var"),
        LOG_LEVEL="ERROR",
        PYTHONUNBUFFERED="1",
        BENCH_FLOOR_SQL=str(WORK / "floor_sql.json"),
    )
    env.update(extra)
    return env


def _run(cmd: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
        )
    return proc.stdout


def _last_json(stdout: str) -> Any:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith(("{", "[")):
            return json.loads(line)
    raise RuntimeError(f"no JSON in output: {stdout[-500:]}")


# --- Database --------------------------------------------------------------------------------------------


def _count_accounts(url: str) -> int:
    import psycopg

    parsed = urlparse(url)
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [parsed.path.lstrip("/")]
        ).fetchone()
        if exists is None:
            conn.execute(f'CREATE DATABASE "{parsed.path.lstrip("/")}"')
            return 0
    with psycopg.connect(url, autocommit=True) as conn:
        table = conn.execute("SELECT to_regclass('billing_personalaccount')").fetchone()
        if table is None or table[0] is None:
            return 0
        return int(conn.execute("SELECT COUNT(*) FROM billing_personalaccount").fetchone()[0])


def _ensure_data(cfg: dict[str, Any]) -> dict[str, Any]:
    env = _env(cfg)
    have = _count_accounts(cfg["database_url"])
    info: dict[str, Any] = {"reused_database": have >= cfg["accounts"]}
    _run([str(BIN / "kabinet"), "migrate", "--noinput", "-v", "0"], env)
    if have < cfg["accounts"]:
        if have:
            raise RuntimeError(
                f"{cfg['database_url']} has {have} accounts, fewer than BENCH_ACCOUNTS={cfg['accounts']}: "
                "drop it (bench/billing.py recreates it) or lower BENCH_ACCOUNTS"
            )
        _log(f"bench-data --accounts {cfg['accounts']} (takes a while)")
        started = time.monotonic()
        _run([str(BIN / "kabinet"), "bench-data", "--accounts", str(cfg["accounts"]), "--json"], env)
        info["bench_data_s"] = round(time.monotonic() - started, 1)
    info["accounts"] = _count_accounts(cfg["database_url"])
    return info


def setup_users(users: int) -> list[dict[str, Any]]:
    """In a child process with Django set up: the bench users and their links (idempotent)."""
    from django.db import connection

    from kabinet.billing.models import PersonalAccount, PersonalAccountLink
    from kabinet.identity.models import User

    made = []
    for index in range(users):
        email = EMAIL.format(index)
        user = User.objects.filter(email=email).first()
        account_ids = []
        for kind in KINDS:
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM billing_personalaccount WHERE service_kind = %s", [kind])
                total = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT id FROM billing_personalaccount WHERE service_kind = %s ORDER BY id OFFSET %s LIMIT 1",
                    [kind, (index + 1) * total // (users + 1)],
                )
                account_ids.append(cursor.fetchone()[0])
        accounts = list(PersonalAccount.objects.filter(pk__in=account_ids).order_by("pk"))
        if user is None:
            user = User.objects.create_user(
                email=email, password=PASSWORD, customer=accounts[0].customer, email_verified=True
            )
        for account in accounts:
            PersonalAccountLink.objects.get_or_create(user=user, personal_account=account)
        # Exactly these three: links left by a run with another BENCH_DASHBOARD_USERS would add cards.
        PersonalAccountLink.objects.filter(user=user).exclude(personal_account__in=accounts).delete()
        made.append({"email": email, "accounts": [a.number for a in accounts]})
    return made


def capture(session_keys: list[str]) -> dict[str, Any]:
    """In a child process with Django set up: the SQL that ``GET /cabinet/`` runs for each session (all
    of it, and the part the dashboard view runs beyond what the middleware runs for any logged-in
    request), and the time of one dashboard request in-process with no concurrency (the server's best
    case)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import bench._dashboard_floor  # noqa: F401  (serves the floor: ROOT_URLCONF with /bench-floor/)

    def statements_of(client: Client, url: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code} for a bench session")
        return [
            q["sql"]
            for q in queries.captured_queries
            if not re.match(r"\s*(SAVEPOINT|RELEASE SAVEPOINT)\b", q["sql"])
        ]

    every: dict[str, list[str]] = {}
    view: dict[str, list[str]] = {}
    for key in session_keys:
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = key
        client.get("/cabinet/")  # the first view may enrol the user in the bonus programme: settle it
        every[key] = statements_of(client, "/cabinet/")
        own = list(every[key])
        for sql in statements_of(client, "/bench-floor/?replay=0"):  # what the middleware runs itself
            if sql in own:
                own.remove(sql)
        view[key] = own
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_keys[0]
    rounds = 50
    started = time.perf_counter()
    for _ in range(rounds):
        client.get("/cabinet/")
    serial_ms = (time.perf_counter() - started) / rounds * 1000
    return {"statements": {"all": every, "view": view}, "serial_ms": serial_ms}


# --- Server ----------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(cfg: dict[str, Any], port: int) -> tuple[subprocess.Popen[bytes], str]:
    app = "bench._dashboard_floor:application"
    if cfg["server"] == "gunicorn":
        cmd = [
            str(BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
            "--workers", str(cfg["workers"]), "--threads", str(cfg["threads"]), "--keep-alive", "30",
            "--backlog", "2048", "--log-level", "warning",
        ]  # fmt: skip
        label = f"gunicorn gthread, {cfg['workers']} workers x {cfg['threads']} threads"
    else:
        cmd = [
            str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(cfg["workers"]), "--blocking-threads", str(cfg["threads"]), "--no-log", app,
        ]  # fmt: skip
        label = f"granian WSGI, {cfg['workers']} workers x {cfg['threads']} threads"
    log = open(WORK / "server.log", "wb")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=_env(cfg), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {WORK / 'server.log'}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            conn.close()
            return proc, label
        except OSError:
            time.sleep(0.1)
    _stop(proc)
    raise RuntimeError("server did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _login(port: int, email: str) -> str:
    """The real login form over HTTP; returns the session key."""
    import requests

    base = f"http://127.0.0.1:{port}"
    with requests.Session() as http_session:
        page = http_session.get(base + "/accounts/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if token is None:
            raise RuntimeError("no CSRF token on the login page")
        response = http_session.post(
            base + "/accounts/login/",
            data={"csrfmiddlewaretoken": token.group(1), "login": email, "password": PASSWORD},
            headers={"Referer": base + "/accounts/login/"},
            allow_redirects=False,
            timeout=30,
        )
        if response.status_code != 302 or "sessionid" not in http_session.cookies:
            raise RuntimeError(f"login of {email} failed: {response.status_code}")
        dashboard = http_session.get(base + "/cabinet/", allow_redirects=False, timeout=30)
        if dashboard.status_code != 200:
            raise RuntimeError(f"dashboard for {email}: {dashboard.status_code}")
        return str(http_session.cookies["sessionid"])


# --- Load ------------------------------------------------------------------------------------------------

WRK_SCRIPT = r"""
local cookies = {}
local index = 0
init = function(args)
  for line in io.lines(args[1]) do table.insert(cookies, line) end
  index = math.random(#cookies)
end
request = function()
  index = (index % #cookies) + 1
  return wrk.format("GET", nil, {["Cookie"] = cookies[index]})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\n{"requests": %d, "duration_us": %d, "non_2xx": %d, "errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def _wrk(url: str, cookie_file: Path, connections: int, seconds: int) -> dict[str, Any]:
    script = WORK / "dashboard.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(script), url, "--", str(cookie_file)],
        capture_output=True, text=True, timeout=seconds + 60,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stderr[-2000:]}")
    raw = _last_json(out.stdout)
    return {
        "requests": raw["requests"],
        "seconds": raw["duration_us"] / 1e6,
        "non_2xx": raw["non_2xx"],
        "errors": raw["errors"],
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
    }


def _python_load(url: str, cookies: list[str], connections: int, seconds: int) -> dict[str, Any]:
    """Fallback load generator: one keep-alive connection per thread, closed loop."""
    parsed = urlparse(url)
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures = [0] * connections
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        i = n
        while time.monotonic() < deadline:
            i += 1
            started = time.perf_counter()
            try:
                conn.request("GET", parsed.path, headers={"Cookie": cookies[i % len(cookies)]})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failures[n] += 1
            except (OSError, http.client.HTTPException):
                failures[n] += 1
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
                continue
            latencies[n].append(time.perf_counter() - started)
        conn.close()

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(connections)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(seconds + 30)
    elapsed = time.monotonic() - started
    flat = sorted(x for per in latencies for x in per)

    def pct(p: float) -> float:
        return flat[min(len(flat) - 1, int(len(flat) * p / 100))] * 1000 if flat else 0.0

    return {
        "requests": len(flat),
        "seconds": elapsed,
        "non_2xx": sum(failures),
        "errors": 0,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
    }


def _use_wrk() -> bool:
    return os.environ.get("BENCH_LOAD_GENERATOR", "wrk") == "wrk" and shutil.which("wrk") is not None


def _load(
    url: str, cookies: list[str], cookie_file: Path, connections: int, seconds: int, server_pid: int = 0
) -> dict[str, Any]:
    """A load run; with ``server_pid`` (a measured run, not a warm-up) also its CPU per request."""
    server_before, machine_before = (
        session_cpu_seconds({server_pid}) if server_pid else 0.0,
        machine_busy_cpu_seconds(),
    )
    if _use_wrk():
        result = _wrk(url, cookie_file, connections, seconds)
    else:
        result = _python_load(url, cookies, connections, seconds)
    result["rps"] = result["requests"] / result["seconds"] if result["seconds"] else 0.0
    if server_pid and result["requests"]:
        # CPU per request: the server's processes, and the whole machine (PostgreSQL, Redis, wrk too).
        server = session_cpu_seconds({server_pid}) - server_before
        machine = machine_busy_cpu_seconds() - machine_before
        result["server_cpu_ms"] = server / result["requests"] * 1000
        result["machine_cpu_ms"] = machine / result["requests"] * 1000
    return result


# --- Report ----------------------------------------------------------------------------------------------

BEGIN = "<!-- bench.dashboard: begin (written by bench/dashboard.py) -->"
END = "<!-- bench.dashboard: end -->"


def _write_doc(r: dict[str, Any]) -> None:
    p95_ok = "met" if r["p95_ms"] < 100 else "**missed**"
    share_ok = "met" if r["floor_share"] >= 0.5 else "**missed**"
    section = f"""{BEGIN}
## Dashboard under load

Measured by `make bench` (`bench/dashboard.py`) on {r["measured_at"]}: PostgreSQL {r["postgresql"]},
{r["accounts"]:,} personal accounts, {r["users"]} logged-in subscribers with 3 accounts each, {r["server"]},
persistent DB connections with prepared statements, Redis cache, DEBUG off; {r["load_generator"]} with {r["connections"]} keep-alive
connections for {r["duration_s"]} s after a {r["warmup_s"]} s warm-up, {r["cpus"]} CPUs shared by the server,
PostgreSQL and the load generator (load average {r["load_average_before"][0]} just before the load, from
other work on the machine). Raw figures: `bench/results/dashboard.json`.

| What | Requests/s | p50, ms | p95, ms | p99, ms | Non-2xx |
|---|---:|---:|---:|---:|---:|
| `GET /cabinet/` (logged in) | {r["rps"]:,.0f} | {r["p50_ms"]} | {r["p95_ms"]} | {r["p99_ms"]} | {r["non_2xx"]} |
| Floor: a bare Django view, the view's {r["floor_statements"]} statements via psycopg, rows as JSON | {r["floor_rps"]:,.0f} | {r["floor_p50_ms"]} | {r["floor_p95_ms"]} | {r["floor_p99_ms"]} | {r["floor_non_2xx"]} |
| For reference, no Django: all {r["dashboard_queries"]} statements via psycopg in a bare WSGI callable | {r["raw_floor_rps"]:,.0f} | — | {r["raw_floor_p95_ms"]} | — | {r["raw_floor_non_2xx"]} |

- p95 at {r["connections"]} connections: {r["p95_ms"]} ms (target < 100 ms: {p95_ok}).
- Dashboard / floor throughput: **{r["floor_share"]:.0%}** (target ≥ 50%: {share_ok}); against the
  Django-free replay: {r["raw_floor_share"]:.0%}.
- CPU per request under this load: the server's processes {r["server_cpu_ms_per_request"]} ms for the
  dashboard and {r["floor_server_cpu_ms_per_request"]} ms for the floor; the whole machine (PostgreSQL,
  Redis and wrk included) {r["machine_cpu_ms_per_request"]} ms and {r["floor_machine_cpu_ms_per_request"]} ms.
- One dashboard request alone, in-process with no concurrency: {r["dashboard_serial_ms"]} ms. By Little's law a p95
  under 100 ms at {r["connections"]} connections needs more than {r["connections"] * 10} requests/s, i.e. about
  {1000 * (r["cpus"] or 1) / (r["connections"] * 10):.1f} ms of CPU per request on this machine.
- The dashboard runs {r["dashboard_queries"]} SQL statements per request (the user; one statement for
  accounts, balances, live subscriptions, tariff names and option sums; the current news; the bonus
  balance; the session is read from Redis). The floor is the issue's "bare view": a plain Django view
  on the same server behind the same middleware (session, the authentication middleware's user query,
  CSRF, locale), which replays through psycopg exactly the statements the dashboard view ran and returns
  the rows as JSON, so whatever the dashboard saves in SQL, the floor saves too; what separates the two
  is the ORM, the Python of the view and the template. The Django-free line replays all the statements,
  the user query included, with no framework at all.
{END}"""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")


def main() -> int:
    cfg = _config()
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "var").mkdir(exist_ok=True)
    import redis

    redis.Redis.from_url(cfg["redis_url"]).flushdb()
    _log(f"data set in {cfg['database_url']}")
    data = _ensure_data(cfg)
    env = _env(cfg)
    _log(f"{data['accounts']:,} accounts; creating {cfg['users']} bench users")
    users = _last_json(
        _run(
            [sys.executable, "-c",
             f"import django, json; django.setup(); from bench.dashboard import setup_users; "
             f"print(json.dumps(setup_users({cfg['users']})))"],
            env,
        )
    )  # fmt: skip
    port = _free_port()
    proc, server_label = _start_server(cfg, port)
    try:
        _log(f"{server_label} on 127.0.0.1:{port}; logging in {len(users)} sessions")
        keys = [_login(port, user["email"]) for user in users]
        captured = _last_json(
            _run(
                [sys.executable, "-c",
                 "import django, json, sys; django.setup(); from bench.dashboard import capture; "
                 f"print(json.dumps(capture({json.dumps(keys)})))"],
                env,
            )
        )  # fmt: skip
        serial_ms = captured["serial_ms"]
        captured = captured["statements"]
        (WORK / "floor_sql.json").write_text(json.dumps(captured), encoding="utf-8")
        _log(f"one dashboard request in-process, no concurrency: {serial_ms:.1f} ms")
        query_counts = sorted({len(v) for v in captured["all"].values()})
        _log(f"the dashboard runs {query_counts} SQL statements per request")
        cookies = [f"sessionid={key}" for key in keys]
        with tempfile.NamedTemporaryFile("w", dir=WORK, suffix=".cookies", delete=False) as fh:
            fh.write("\n".join(cookies) + "\n")
            cookie_file = Path(fh.name)
        base = f"http://127.0.0.1:{port}"
        check = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        check.request("GET", "/bench-floor/", headers={"Cookie": cookies[0]})
        floor_response = check.getresponse()
        floor_body = json.loads(floor_response.read())
        check.close()
        if floor_response.status != 200 or floor_body["statements"] != len(captured["view"][keys[0]]):
            raise RuntimeError(f"floor check failed: {floor_response.status}")

        load_before = os.getloadavg()
        _log(f"warm-up {cfg['warmup']} s each (load average before: {load_before[0]:.2f})")
        _load(base + "/cabinet/", cookies, cookie_file, cfg["connections"], cfg["warmup"])
        _load(base + "/bench-floor/", cookies, cookie_file, cfg["connections"], cfg["warmup"])
        _load(base + "/bench-floor-raw/", cookies, cookie_file, cfg["connections"], cfg["warmup"])
        _log(f"dashboard: {cfg['connections']} connections, {cfg['seconds']} s")
        dash = _load(base + "/cabinet/", cookies, cookie_file, cfg["connections"], cfg["seconds"], proc.pid)
        _log(f"dashboard: {dash}")
        _log(f"floor: {cfg['connections']} connections, {cfg['seconds']} s")
        floor = _load(
            base + "/bench-floor/", cookies, cookie_file, cfg["connections"], cfg["seconds"], proc.pid
        )
        _log(f"floor: {floor}")
        _log(f"raw floor (no Django): {cfg['connections']} connections, {cfg['seconds']} s")
        raw = _load(
            base + "/bench-floor-raw/", cookies, cookie_file, cfg["connections"], cfg["seconds"], proc.pid
        )
        _log(f"raw floor: {raw}")
    finally:
        _stop(proc)
        for leftover in WORK.glob("*.cookies"):  # the sessions' cookies: nothing to keep
            leftover.unlink(missing_ok=True)

    import psycopg

    with psycopg.connect(cfg["database_url"]) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    result = {
        "accounts": data["accounts"],
        "connections": cfg["connections"],
        "rps": round(dash["rps"], 1),
        "p50_ms": round(dash["p50_ms"], 1),
        "p95_ms": round(dash["p95_ms"], 1),
        "p99_ms": round(dash["p99_ms"], 1),
        "non_2xx": dash["non_2xx"] + dash["errors"],
        "floor_rps": round(floor["rps"], 1),
        "floor_p50_ms": round(floor["p50_ms"], 1),
        "floor_p95_ms": round(floor["p95_ms"], 1),
        "floor_p99_ms": round(floor["p99_ms"], 1),
        "floor_non_2xx": floor["non_2xx"] + floor["errors"],
        "floor_share": round(dash["rps"] / floor["rps"], 3) if floor["rps"] else 0.0,
        "server_cpu_ms_per_request": round(dash.get("server_cpu_ms", 0.0), 2),
        "machine_cpu_ms_per_request": round(dash.get("machine_cpu_ms", 0.0), 2),
        "floor_server_cpu_ms_per_request": round(floor.get("server_cpu_ms", 0.0), 2),
        "floor_machine_cpu_ms_per_request": round(floor.get("machine_cpu_ms", 0.0), 2),
        "floor_statements": max(len(v) for v in captured["view"].values()),
        "floor_kind": "Django view behind the project's middleware, view statements replayed via psycopg",
        "raw_floor_rps": round(raw["rps"], 1),
        "raw_floor_p95_ms": round(raw["p95_ms"], 1),
        "raw_floor_non_2xx": raw["non_2xx"] + raw["errors"],
        "raw_floor_share": round(dash["rps"] / raw["rps"], 3) if raw["rps"] else 0.0,
        "server": server_label,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "duration_s": cfg["seconds"],
        "warmup_s": cfg["warmup"],
        "users": len(users),
        "accounts_per_user": len(KINDS),
        "dashboard_serial_ms": round(serial_ms, 1),
        "dashboard_queries": max(query_counts),
        "dashboard_queries_per_session": query_counts,
        "load_generator": "wrk" if _use_wrk() else "python threads",
        "postgresql": version,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "host": platform.node(),
        "reused_database": data["reused_database"],
        "targets": {
            "p95_under_100_ms": dash["p95_ms"] < 100,
            "at_least_half_of_floor": bool(floor["rps"]) and dash["rps"] / floor["rps"] >= 0.5,
        },
    }
    if "bench_data_s" in data:
        result["bench_data_s"] = data["bench_data_s"]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _write_doc(result)
    _log(
        f"rps {result['rps']}, p95 {result['p95_ms']} ms, floor {result['floor_rps']} rps "
        f"(share {result['floor_share']:.0%}); written {RESULTS.relative_to(ROOT)}"
    )
    clean = result["non_2xx"] == 0 and result["floor_non_2xx"] == 0 and result["raw_floor_non_2xx"] == 0
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
