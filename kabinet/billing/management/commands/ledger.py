"""``kabinet ledger verify``: recompute every balance from the transfers and check the ledger adds up.

Exits with status 1 (after printing the problems) if any cached balance differs from the sum of its
transfers or the balances of all ledger accounts do not sum to zero.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kabinet.billing.verify import ledger_verify


class Command(BaseCommand):
    help = "Ledger: `verify` recomputes every balance from the transfers and fails on any difference."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="Recompute balances from transfers; exit 1 on a mismatch.")
        verify.add_argument("--limit", type=int, default=100, help="mismatches to print")
        verify.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        report = ledger_verify(limit=options["limit"])
        seconds = time.monotonic() - started
        if options["json"]:
            self.stdout.write(
                json.dumps({**report.as_dict(), "seconds": round(seconds, 3)}, ensure_ascii=False)
            )
        else:
            self.stdout.write(
                f"Счетов: {report.accounts}, проводок: {report.transfers}, "
                f"сумма всех балансов: {report.total_kopecks} коп., расхождений: {report.mismatch_count} "
                f"({seconds:.1f} с)"
            )
            for row in report.mismatches:
                self.stdout.write(
                    f"  {row.code}: в кэше {row.cached_kopecks} коп., по проводкам {row.computed_kopecks} коп. "
                    f"(разница {row.cached_kopecks - row.computed_kopecks})"
                )
            if report.mismatch_count > len(report.mismatches):
                self.stdout.write(f"  ... и ещё {report.mismatch_count - len(report.mismatches)}")
        if not report.ok:
            problems = []
            if report.mismatch_count:
                problems.append(f"{report.mismatch_count} балансов не совпадают с проводками")
            if report.total_kopecks != 0:
                problems.append(f"сумма всех балансов {report.total_kopecks} коп., а должна быть 0")
            raise CommandError("Проверка журнала не пройдена: " + "; ".join(problems) + ".")
        self.stdout.write("Журнал сходится.")
