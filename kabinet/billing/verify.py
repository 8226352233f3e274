"""Ledger verification: every cached balance equals the sum of its transfers; all balances sum to zero.

Set-based: one aggregate over the transfers joined to the ledger accounts, whatever their number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection


@dataclass(frozen=True)
class BalanceMismatch:
    ledger_account_id: int
    code: str
    cached_kopecks: int
    computed_kopecks: int


@dataclass
class LedgerReport:
    accounts: int = 0
    transfers: int = 0
    total_kopecks: int = 0
    mismatch_count: int = 0
    mismatches: list[BalanceMismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.mismatch_count == 0 and self.total_kopecks == 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


_COMPUTED = """
    WITH moves AS (
        SELECT debit_account_id AS lid, -SUM(amount_kopecks) AS delta FROM billing_ledgertransfer
        GROUP BY debit_account_id
        UNION ALL
        SELECT credit_account_id, SUM(amount_kopecks) FROM billing_ledgertransfer GROUP BY credit_account_id
    ),
    computed AS (SELECT lid, SUM(delta) AS total FROM moves GROUP BY lid)
"""


def ledger_verify(*, limit: int = 100) -> LedgerReport:
    """Recompute every balance from the transfers (read-only)."""
    report = LedgerReport()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT COUNT(*) FROM billing_ledgeraccount), (SELECT COUNT(*) FROM billing_ledgertransfer), "
            "(SELECT COALESCE(SUM(balance_kopecks), 0) FROM billing_ledgeraccount)"
        )
        accounts, transfers, total = cursor.fetchone()
        report.accounts, report.transfers, report.total_kopecks = int(accounts), int(transfers), int(total)
        cursor.execute(
            f"""{_COMPUTED}
            SELECT la.id, la.code, la.balance_kopecks, COALESCE(c.total, 0)
            FROM billing_ledgeraccount la LEFT JOIN computed c ON c.lid = la.id
            WHERE la.balance_kopecks <> COALESCE(c.total, 0)
            ORDER BY la.id
            """  # noqa: S608 - constant SQL
        )
        rows = cursor.fetchall()
        # Transfers pointing at no ledger account cannot exist (foreign keys), so these are all.
    report.mismatch_count = len(rows)
    report.mismatches = [
        BalanceMismatch(
            ledger_account_id=int(r[0]), code=r[1], cached_kopecks=int(r[2]), computed_kopecks=int(r[3])
        )
        for r in rows[:limit]
    ]
    return report
