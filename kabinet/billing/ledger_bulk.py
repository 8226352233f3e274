"""Set-based ledger posting for imports of many payments at once (bank registries).

Same guarantees as ``kabinet.billing.services.ledger_transfer_post`` (exactly once per key, balances
updated in the same transaction, accounts locked in pk order), with a few statements per batch instead of
several per transfer. Added by helper PAY-B for kabinet.payments.registries; billing owns the ledger,
so this lives here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, Case, F, Value, When
from django.utils.translation import gettext as _

from kabinet.billing.models import LedgerAccount, LedgerTransfer
from kabinet.core.exceptions import DomainError

_CASE_BATCH = 500


@dataclass(frozen=True)
class TransferSpec:
    key: str
    debit_account_id: int
    credit_account_id: int
    amount_kopecks: int
    kind: str
    value_date: dt.date
    description: str = ""
    ref: str = ""
    actor_id: int | None = None


def ledger_transfers_post_many(*, transfers: Sequence[TransferSpec]) -> dict[str, LedgerTransfer]:
    """Post each transfer once per key. Returns the transfers created now, by key; a key that was
    already posted (a replay, or another process got there first) is left out of the result."""
    for spec in transfers:
        if not isinstance(spec.amount_kopecks, int) or spec.amount_kopecks <= 0:
            raise DomainError(_("Сумма проводки должна быть положительным целым числом копеек."))
        if spec.debit_account_id == spec.credit_account_id:
            raise DomainError(_("Проводка должна затрагивать два разных счёта."))
    if not transfers:
        return {}
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _post_many(transfers)
        except IntegrityError:
            # A concurrent post of one of the keys committed between our check and insert: retry,
            # the check now sees it and leaves it out.
            continue
    raise DomainError(_("Не удалось провести платежи из-за параллельной записи, повторите загрузку."))


def _post_many(transfers: Sequence[TransferSpec]) -> dict[str, LedgerTransfer]:
    unique: dict[str, TransferSpec] = {}
    for spec in transfers:
        unique.setdefault(spec.key, spec)
    account_ids = sorted(
        {s.debit_account_id for s in unique.values()} | {s.credit_account_id for s in unique.values()}
    )
    # Lock every touched account first, in the order ledger_transfer_post and the billing run use:
    # subscriber accounts by pk, then the operator's accounts by pk.
    touched = LedgerAccount.objects.select_for_update().filter(pk__in=account_ids)
    list(touched.filter(kind=LedgerAccount.Kind.SUBSCRIBER).order_by("pk").values_list("pk"))
    list(touched.exclude(kind=LedgerAccount.Kind.SUBSCRIBER).order_by("pk").values_list("pk"))
    existing = set(LedgerTransfer.objects.filter(key__in=list(unique)).values_list("key", flat=True))
    todo = [s for k, s in unique.items() if k not in existing]
    if not todo:
        return {}
    created = LedgerTransfer.objects.bulk_create(
        [
            LedgerTransfer(
                key=s.key,
                debit_account_id=s.debit_account_id,
                credit_account_id=s.credit_account_id,
                amount_kopecks=s.amount_kopecks,
                kind=s.kind,
                value_date=s.value_date,
                description=s.description[:255],
                ref=s.ref[:64],
                actor_id=s.actor_id,
            )
            for s in todo
        ],
        batch_size=1000,
    )
    if created and created[0].pk is None:  # pragma: no cover - backends without RETURNING
        created = list(LedgerTransfer.objects.filter(key__in=[s.key for s in todo]))
    deltas: dict[int, int] = defaultdict(int)
    for s in todo:
        deltas[s.debit_account_id] -= s.amount_kopecks
        deltas[s.credit_account_id] += s.amount_kopecks
    ordered = sorted((pk, d) for pk, d in deltas.items() if d)
    _balances_add(ordered)
    return {t.key: t for t in created}


def _balances_add(ordered: list[tuple[int, int]]) -> None:
    """Add each delta to its account's cached balance: one statement on PostgreSQL."""
    if not ordered:
        return
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(LedgerAccount._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS a SET balance_kopecks = a.balance_kopecks + v.delta "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, delta) WHERE a.id = v.id",
                [[pk for pk, _d in ordered], [d for _pk, d in ordered]],
            )
        return
    for start in range(0, len(ordered), _CASE_BATCH):
        batch = ordered[start : start + _CASE_BATCH]
        LedgerAccount.objects.filter(pk__in=[pk for pk, _d in batch]).update(
            balance_kopecks=F("balance_kopecks")
            + Case(*[When(pk=pk, then=Value(d)) for pk, d in batch], output_field=BigIntegerField())
        )
