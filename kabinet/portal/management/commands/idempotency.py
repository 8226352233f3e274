"""``kabinet idempotency purge [--days N]``: delete old Idempotency-Key records and form tokens.

The nightly Celery task does the same (kabinet.portal.tasks); this is for a one-off run or a cron
without Celery beat. The default window is PORTAL_IDEMPOTENCY_RETENTION_DAYS.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kabinet.portal.services import idempotency_records_purge


class Command(BaseCommand):
    help = "Idempotency records: `purge` deletes those older than the retention window."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        purge = sub.add_parser("purge", help="Delete records older than --days (default: the setting).")
        purge.add_argument("--days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"] if options["days"] is not None else settings.PORTAL_IDEMPOTENCY_RETENTION_DAYS
        if days < 1:
            raise CommandError("--days must be at least 1")
        deleted = idempotency_records_purge(older_than_days=days)
        self.stdout.write(f"Удалено записей идемпотентности старше {days} дн.: {deleted}")
