"""``kabinet billing run --date YYYY-MM-DD [--workers N]``: charge every personal account for a date.

In the embedded default (eager Celery) the chunks run in this process (``--workers N`` threads on
PostgreSQL); with a real broker they are sent as Celery tasks to the ``billing`` queue and this command
follows the run's progress until it finishes. Either way the run is recorded as a ``BillingRun``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kabinet.billing.models import BillingRun
from kabinet.billing.run import billing_run
from kabinet.core.money import format_kopecks


class ProgressBar:
    """A one-line progress bar on stderr (only when it is a terminal, unless forced)."""

    def __init__(self, *, enabled: bool, width: int = 30) -> None:
        self.enabled = enabled
        self.width = width
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        filled = int(self.width * done / total) if total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        seconds = time.monotonic() - self.started
        sys.stderr.write(f"\r[{bar}] {done}/{total} частей, {seconds:.1f} с")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


class Command(BaseCommand):
    help = "Billing: `run --date YYYY-MM-DD [--workers N]` charges every personal account for a date."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="Run billing for a date (idempotent).")
        run.add_argument("--date", help="YYYY-MM-DD (default: today, Europe/Moscow)")
        run.add_argument("--workers", type=int, default=1, help="parallel chunks (threads or Celery workers)")
        run.add_argument("--chunk-size", type=int, default=None)
        run.add_argument(
            "--in-process",
            action="store_true",
            help="run chunks here even when a Celery broker is configured",
        )
        run.add_argument("--no-progress", action="store_true")
        run.add_argument("--progress", action="store_true", help="show the progress bar even when not a tty")
        run.add_argument("--json", action="store_true", help="print the summary as JSON")
        run.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for Celery workers")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "run":
            self._run(options)

    def _run(self, options: dict[str, Any]) -> None:
        try:
            run_date = dt.date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
        except ValueError as exc:
            raise CommandError("Дата должна быть в формате ГГГГ-ММ-ДД.") from exc
        workers = max(1, options["workers"])
        progress = ProgressBar(
            enabled=not options["no_progress"] and (options["progress"] or sys.stderr.isatty())
        )
        started = time.monotonic()
        eager = bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))
        if eager or options["in_process"]:
            summary = billing_run(
                run_date=run_date, workers=workers, chunk_size=options["chunk_size"], progress=progress
            )
            run = BillingRun.objects.get(pk=summary.run_id)
        else:
            run = self._dispatch_and_wait(
                run_date=run_date,
                workers=workers,
                chunk_size=options["chunk_size"],
                progress=progress,
                timeout=options["timeout"],
            )
        seconds = time.monotonic() - started
        result = {
            "run_id": run.pk,
            "date": run_date.isoformat(),
            "status": run.status,
            "accounts": run.accounts_count,
            "charges": run.charges_count,
            "total_kopecks": run.total_kopecks,
            "blocked": run.blocked_count,
            "chunks": run.chunks_total,
            "chunks_skipped": run.chunks_skipped,
            "workers": workers,
            "seconds": round(seconds, 3),
            "errors": run.errors,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            self.stdout.write(
                f"Биллинг за {run_date:%d.%m.%Y}: {run.get_status_display().lower()}\n"
                f"  лицевых счетов списано: {run.accounts_count}\n"
                f"  списаний: {run.charges_count}\n"
                f"  сумма: {format_kopecks(run.total_kopecks)}\n"
                f"  заблокировано за неуплату: {run.blocked_count}\n"
                f"  частей: {run.chunks_total} (пропущено как уже выполненные: {run.chunks_skipped})\n"
                f"  время: {seconds:.1f} с"
            )
        if run.status != BillingRun.Status.FINISHED:
            raise CommandError("; ".join(run.errors) or "Биллинг не завершён.")

    def _dispatch_and_wait(
        self,
        *,
        run_date: dt.date,
        workers: int,
        chunk_size: int | None,
        progress: ProgressBar,
        timeout: float,
    ) -> BillingRun:
        from kabinet.billing.tasks import billing_run_dispatch

        run = billing_run_dispatch(
            run_date=run_date, workers=workers, chunk_size=chunk_size, triggered_by="cli"
        )
        deadline = time.monotonic() + timeout
        while True:
            run.refresh_from_db()
            done = run.chunks_done + run.chunks_skipped
            progress(min(done, run.chunks_total), run.chunks_total)
            if run.finished_at is not None:
                return run
            if run.errors:
                # A chunk failed for good: report now (the others go on; rerun the date to finish).
                return run
            if time.monotonic() > deadline:
                raise CommandError(
                    f"Биллинг не завершился за {timeout:.0f} с: выполнено {done} из {run.chunks_total} частей."
                )
            time.sleep(0.2)
