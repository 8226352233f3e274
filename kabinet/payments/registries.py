"""Bank payment registries: a CSV file of payments made at banks by personal account number.

The format is documented in docs/registries.md. Import is set-based: the file is parsed once, then
processed in chunks; each chunk is one transaction that looks up accounts and earlier payments with a
few queries, posts one ledger transfer per new payment (key ``registry:<bank>:<transaction id>``, so a
replayed line can never credit twice, even from two imports running at once) and bulk-inserts the
payments, their events and the registry lines. Nothing is dropped: a line that cannot be credited is
stored with status ``needs_review`` and a reason in Russian, for staff to resolve.

Two entry points: the back office's ``registry_upload`` checks the file, stores it (RegistryFile) and
queues ``registry_import_run`` as a Celery task (eager in the embedded default and tests); the console's
``registry_import`` imports at once. A run resumes where an interrupted one stopped (lines already
stored for the import are skipped, under a lock on the import row), and a chunk that meets a deadlock
or serialization failure (a concurrent billing run on PostgreSQL) is rolled back and retried a few
times: it is idempotent.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kabinet.billing.ledger_bulk import TransferSpec, ledger_transfers_post_many
from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.numbers import personal_account_number_clean, personal_account_number_is_valid
from kabinet.billing.services import (
    CLEARING_BANK_REGISTRY,
    ledger_account_system,
    personal_account_unblock_if_paid,
)
from kabinet.core.audit import audit_log
from kabinet.core.exceptions import Conflict, DomainError, NotFound, PermissionDenied
from kabinet.core.money import MoneyInputError, rubles_to_kopecks
from kabinet.payments.hooks import payments_credited_notify
from kabinet.payments.models import Payment, PaymentEvent, RegistryFile, RegistryImport, RegistryLine

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
# A chunk that fails with a deadlock or serialization failure is retried (it is idempotent).
CHUNK_ATTEMPTS = 4
CHUNK_RETRY_BACKOFF_SECONDS = 0.05  # x attempt number: 50, 100, 150 ms
RETRYABLE_SQLSTATES = ("40P01", "40001")  # deadlock_detected, serialization_failure
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_BANK_LENGTH = 32
MAX_TRANSACTION_ID_LENGTH = 64
MAX_LINE_KOPECKS = 100_000_000  # 1 000 000 ₽ per line: more is a typo in the file, not a payment

# Header names accepted for each column, in the file's order (docs/registries.md).
COLUMNS = ("bank", "date", "transaction_id", "account", "amount", "payer")
HEADER_NAMES = {
    "bank": {"bank", "банк"},
    "date": {"date", "дата"},
    "transaction_id": {"transaction_id", "bank_transaction_id", "номер операции", "id операции"},
    "account": {"account", "account_number", "лицевой счёт", "лицевой счет"},
    "amount": {"amount", "сумма"},
    "payer": {"payer", "плательщик"},
}


@dataclass
class ParsedLine:
    line_no: int
    raw: str
    bank: str = ""
    bank_transaction_id: str = ""
    paid_on: dt.date | None = None
    account_number: str = ""
    amount_kopecks: int | None = None
    payer: str = ""
    reason: str = ""  # set when the line cannot be credited as it is


@dataclass
class _ChunkCounts:
    lines: int = 0
    credited: int = 0
    credited_kopecks: int = 0
    duplicates: int = 0
    to_review: int = 0
    total_kopecks: int = 0

    def add(self, counts: _ChunkCounts) -> None:
        for name in ("lines", "credited", "credited_kopecks", "duplicates", "to_review", "total_kopecks"):
            setattr(self, name, getattr(self, name) + getattr(counts, name))


@dataclass(kw_only=True)
class ImportSummary(_ChunkCounts):
    """The counts of a whole file (the sum of its chunks'), with the import record and any errors."""

    registry_import: RegistryImport
    errors: list[str] = field(default_factory=list)


def registry_decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) or Windows-1251, as banks send them. Returns (text, encoding)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251"), "cp1251"
    except UnicodeDecodeError as exc:  # pragma: no cover - cp1251 maps nearly every byte
        raise DomainError(_("Файл не в кодировке UTF-8 или Windows-1251.")) from exc


def _delimiter(header_line: str) -> str:
    return ";" if header_line.count(";") >= header_line.count(",") else ","


def _normalize_header(name: str) -> str:
    return " ".join(name.strip().strip("\ufeff").lower().replace("ё", "е").split())


def _check_header(row: list[str]) -> None:
    names = [_normalize_header(c) for c in row]
    expected = [{_normalize_header(n) for n in HEADER_NAMES[c]} for c in COLUMNS]
    if len(names) != len(COLUMNS) or any(n not in e for n, e in zip(names, expected, strict=True)):
        raise DomainError(
            _(
                "Первая строка файла должна быть заголовком: "
                "bank;date;transaction_id;account;amount;payer (или банк;дата;номер операции;"
                "лицевой счёт;сумма;плательщик)."
            )
        )


def _parse_date(text: str) -> dt.date | None:
    text = text.strip()
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _parse_amount(text: str) -> tuple[int | None, str]:
    try:
        return rubles_to_kopecks(text.strip()), ""
    except MoneyInputError as exc:
        return None, _("Неверная сумма «%(amount)s»: %(why)s") % {"amount": text.strip(), "why": exc.message}


def registry_parse(text: str) -> list[ParsedLine]:
    """Parse the file into lines; each line is checked on its own (a bad line never stops the rest)."""
    lines = text.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise DomainError(_("Файл пуст."))
    delimiter = _delimiter(lines[0])
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff\r\n")), delimiter=delimiter)
    parsed: list[ParsedLine] = []
    header_seen = False
    for row in reader:
        line_no = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if not header_seen:
            _check_header(row)
            header_seen = True
            continue
        raw = delimiter.join(row)[:1000]
        line = ParsedLine(line_no=line_no, raw=raw)
        parsed.append(line)
        if len(row) != len(COLUMNS):
            line.reason = _("Неверное число полей: %(n)s вместо 6.") % {"n": len(row)}
            continue
        bank, date_text, txid, account, amount_text, payer = (c.strip() for c in row)
        line.bank = bank[:64]
        line.bank_transaction_id = txid[:128]
        line.account_number = personal_account_number_clean(account)[:64]
        line.payer = payer[:255]
        line.paid_on = _parse_date(date_text)
        line.amount_kopecks, amount_reason = _parse_amount(amount_text)
        if not bank:
            line.reason = _("Не указан банк.")
        elif len(bank) > MAX_BANK_LENGTH:
            line.reason = _("Название банка длиннее %(n)s символов.") % {"n": MAX_BANK_LENGTH}
        elif not txid:
            line.reason = _("Не указан номер операции банка.")
        elif len(txid) > MAX_TRANSACTION_ID_LENGTH:
            line.reason = _("Номер операции длиннее %(n)s символов.") % {"n": MAX_TRANSACTION_ID_LENGTH}
        elif line.paid_on is None:
            line.reason = _("Неверная дата «%(date)s»: ожидается ДД.ММ.ГГГГ или ГГГГ-ММ-ДД.") % {
                "date": date_text
            }
        elif amount_reason:
            line.reason = amount_reason
        elif line.amount_kopecks is not None and line.amount_kopecks > MAX_LINE_KOPECKS:
            line.reason = _("Сумма больше 1 000 000 ₽: проверьте строку с банком.")
        elif not (len(line.account_number) == 10 and line.account_number.isdigit()):
            line.reason = _("Номер лицевого счёта «%(number)s» должен состоять из 10 цифр.") % {
                "number": account.strip()
            }
        elif not personal_account_number_is_valid(line.account_number):
            line.reason = _("Неверная контрольная цифра в номере лицевого счёта «%(number)s».") % {
                "number": account.strip()
            }
    if not header_seen:
        raise DomainError(_("Файл пуст."))
    return parsed


def registry_transfer_key(*, bank: str, bank_transaction_id: str) -> str:
    return f"registry:{bank}:{bank_transaction_id}"


def _idempotency_key() -> str:
    """Registry payments are deduplicated by their ledger key and (bank, transaction id); this field
    only has to be unique, and random so that no caller of payment_initiate can take it first."""
    return f"registry:{uuid.uuid4().hex}"


@dataclass
class _Credit:
    line: ParsedLine
    account_id: int
    ledger_account_id: int

    @property
    def amount_kopecks(self) -> int:
        assert self.line.amount_kopecks is not None
        return self.line.amount_kopecks


def _credit_many(
    *, credits: Sequence[_Credit], clearing: LedgerAccount, actor: Any, now: dt.datetime
) -> tuple[list[Payment], set[int]]:
    """Post transfers and create payments for lines already checked. Call inside a transaction.

    Returns the payments created and the line numbers that turned out to be duplicates (another
    import credited the same bank transaction in the meantime)."""
    specs = []
    for item in credits:
        line = item.line
        assert line.amount_kopecks is not None and line.paid_on is not None
        specs.append(
            TransferSpec(
                key=registry_transfer_key(bank=line.bank, bank_transaction_id=line.bank_transaction_id),
                debit_account_id=clearing.pk,
                credit_account_id=item.ledger_account_id,
                amount_kopecks=line.amount_kopecks,
                kind=LedgerTransfer.Kind.PAYMENT,
                value_date=line.paid_on,
                description=_("Оплата через банк %(bank)s") % {"bank": line.bank},
                ref=line.bank_transaction_id[:64],
                actor_id=actor.pk if getattr(actor, "is_authenticated", False) else None,
            )
        )
    posted = ledger_transfers_post_many(transfers=specs)
    new: list[tuple[_Credit, LedgerTransfer]] = []
    duplicates: set[int] = set()
    for item, spec in zip(credits, specs, strict=True):
        transfer = posted.pop(spec.key, None)
        if transfer is None:
            duplicates.add(item.line.line_no)
        else:
            new.append((item, transfer))
    payments = [
        Payment(
            personal_account_id=item.account_id,
            amount_kopecks=item.amount_kopecks,
            method=Payment.Method.BANK_REGISTRY,
            status=Payment.Status.SUCCEEDED,
            idempotency_key=_idempotency_key(),
            bank=item.line.bank,
            bank_transaction_id=item.line.bank_transaction_id,
            payer=item.line.payer,
            paid_at=dt.datetime.combine(
                item.line.paid_on, dt.time(12, 0), tzinfo=timezone.get_current_timezone()
            )
            if item.line.paid_on
            else now,
            credited_at=now,
            transfer=transfer,
        )
        for item, transfer in new
    ]
    created = Payment.objects.bulk_create(payments, batch_size=1000)
    if created and created[0].pk is None:  # backends without RETURNING (not PostgreSQL/SQLite 3.35+)
        created = list(Payment.objects.filter(transfer_id__in=[t.pk for _i, t in new]))
    events = [
        PaymentEvent(
            payment=payment,
            kind=PaymentEvent.Kind.CREDITED,
            message=_("Платёж из реестра банка %(bank)s") % {"bank": payment.bank},
        )
        for payment in created
    ]
    PaymentEvent.objects.bulk_create(events, batch_size=2000)
    return created, duplicates


def _restore_service(*, payments: Iterable[Payment], actor: Any) -> None:
    """Unblock accounts blocked for debt that the payments brought back to a positive balance."""
    by_account = {p.personal_account_id: p for p in payments}
    blocked = PersonalAccount.objects.filter(
        pk__in=list(by_account), status=PersonalAccount.Status.BLOCKED_DEBT
    ).order_by("pk")
    now = timezone.now()
    for account in blocked:
        if personal_account_unblock_if_paid(personal_account=account, actor=actor):
            payment = by_account[account.pk]
            Payment.objects.filter(pk=payment.pk).update(service_restored_at=now)
            PaymentEvent.objects.create(payment=payment, kind=PaymentEvent.Kind.SERVICE_RESTORED)


def _process_chunk(
    *,
    registry_import_id: int,
    chunk: list[ParsedLine],
    clearing: LedgerAccount,
    actor: Any,
    seen: dict[tuple[str, str], int],
) -> _ChunkCounts | None:
    """Import one chunk in one transaction. Returns its counts, or None when another run of the same
    import stored these lines first (a duplicate task delivery)."""
    now = timezone.now()
    numbers = {ln.account_number for ln in chunk if not ln.reason}
    accounts = {
        row[0]: row[1:]
        for row in PersonalAccount.objects.filter(number__in=numbers).values_list(
            "number", "pk", "ledger_account_id", "status"
        )
    }
    keys = [(ln.bank, ln.bank_transaction_id) for ln in chunk if not ln.reason]
    existing: dict[tuple[str, str], tuple[int, int, int]] = {}
    if keys:
        # Through the ledger's unique key index (one column, so the planner always uses it; a lookup
        # on (bank, bank_transaction_id) with thousands of ids degrades to scanning the bank's rows).
        transfer_ids = list(
            LedgerTransfer.objects.filter(
                key__in=[registry_transfer_key(bank=b, bank_transaction_id=t) for b, t in keys]
            ).values_list("pk", flat=True)
        )
        for bank, txid, pk, account_id, amount in Payment.objects.filter(
            transfer_id__in=transfer_ids
        ).values_list("bank", "bank_transaction_id", "pk", "personal_account_id", "amount_kopecks"):
            existing[(bank, txid)] = (pk, account_id, amount)

    outcome: dict[
        int, tuple[str, str, int | None, int | None]
    ] = {}  # line_no -> status, reason, account, payment
    credits: list[_Credit] = []
    for ln in chunk:
        if ln.reason:
            outcome[ln.line_no] = (RegistryLine.Status.NEEDS_REVIEW, ln.reason, None, None)
            continue
        key = (ln.bank, ln.bank_transaction_id)
        account = accounts.get(ln.account_number)
        if key in seen:
            outcome[ln.line_no] = (
                RegistryLine.Status.DUPLICATE,
                _("Повтор строки %(n)s этого файла.") % {"n": seen[key]},
                account[0] if account else None,
                None,
            )
            continue
        seen[key] = ln.line_no
        if key in existing:
            pk, account_id, amount = existing[key]
            if account is not None and account[0] == account_id and amount == ln.amount_kopecks:
                outcome[ln.line_no] = (
                    RegistryLine.Status.DUPLICATE,
                    _("Эта операция банка уже зачислена."),
                    account_id,
                    pk,
                )
            else:
                outcome[ln.line_no] = (
                    RegistryLine.Status.NEEDS_REVIEW,
                    _("Операция с этим номером уже зачислена, но с другими суммой или лицевым счётом."),
                    account[0] if account else None,
                    None,
                )
            continue
        if account is None:
            outcome[ln.line_no] = (
                RegistryLine.Status.NEEDS_REVIEW,
                _("Лицевой счёт %(number)s не найден.") % {"number": ln.account_number},
                None,
                None,
            )
            continue
        if account[2] == PersonalAccount.Status.TERMINATED:
            outcome[ln.line_no] = (
                RegistryLine.Status.NEEDS_REVIEW,
                _("Лицевой счёт %(number)s закрыт.") % {"number": ln.account_number},
                account[0],
                None,
            )
            continue
        credits.append(_Credit(line=ln, account_id=account[0], ledger_account_id=account[1]))

    counts = _ChunkCounts()
    with transaction.atomic():
        # The import row is the lock for its lines: two runs of one import (a task delivered twice, a
        # resumed run) never store a chunk twice.
        RegistryImport.objects.select_for_update().filter(pk=registry_import_id).values_list("pk").first()
        line_nos = [ln.line_no for ln in chunk]
        # The range lets PostgreSQL walk the (import, line) unique index even with a generic plan of a
        # prepared statement (the IN list alone made it filter every stored line of the import).
        if RegistryLine.objects.filter(
            registry_import_id=registry_import_id,
            line_no__gte=min(line_nos),
            line_no__lte=max(line_nos),
            line_no__in=line_nos,
        ).exists():
            return None
        payments, raced = _credit_many(credits=credits, clearing=clearing, actor=actor, now=now)
        by_line = {}
        for item, payment in zip([c for c in credits if c.line.line_no not in raced], payments, strict=True):
            by_line[item.line.line_no] = (item, payment)
        for item in credits:
            if item.line.line_no in raced:
                outcome[item.line.line_no] = (
                    RegistryLine.Status.DUPLICATE,
                    _("Эта операция банка уже зачислена."),
                    item.account_id,
                    None,
                )
            else:
                payment = by_line[item.line.line_no][1]
                outcome[item.line.line_no] = (RegistryLine.Status.CREDITED, "", item.account_id, payment.pk)
        RegistryLine.objects.bulk_create(
            [
                RegistryLine(
                    registry_import_id=registry_import_id,
                    line_no=ln.line_no,
                    raw=ln.raw,
                    bank=ln.bank,
                    bank_transaction_id=ln.bank_transaction_id,
                    paid_on=ln.paid_on,
                    account_number=ln.account_number,
                    amount_kopecks=ln.amount_kopecks,
                    payer=ln.payer,
                    status=outcome[ln.line_no][0],
                    reason=outcome[ln.line_no][1][:255],
                    personal_account_id=outcome[ln.line_no][2],
                    payment_id=outcome[ln.line_no][3],
                )
                for ln in chunk
            ],
            batch_size=2000,
        )
        if payments:
            payments_credited_notify(payments=payments)
            _restore_service(payments=payments, actor=actor)
        for ln in chunk:
            status = outcome[ln.line_no][0]
            counts.lines += 1
            if ln.amount_kopecks is not None:
                counts.total_kopecks += ln.amount_kopecks
            if status == RegistryLine.Status.CREDITED:
                counts.credited += 1
                counts.credited_kopecks += ln.amount_kopecks or 0
            elif status == RegistryLine.Status.DUPLICATE:
                counts.duplicates += 1
            else:
                counts.to_review += 1
        # Increments, not totals: the counters stay right however many runs share the import.
        RegistryImport.objects.filter(pk=registry_import_id).update(
            lines_total=F("lines_total") + counts.lines,
            credited_count=F("credited_count") + counts.credited,
            credited_kopecks=F("credited_kopecks") + counts.credited_kopecks,
            duplicate_count=F("duplicate_count") + counts.duplicates,
            review_count=F("review_count") + counts.to_review,
            total_kopecks=F("total_kopecks") + counts.total_kopecks,
        )
    return counts


def _is_retryable(exc: BaseException) -> bool:
    """A deadlock or serialization failure (PostgreSQL), or SQLite's busy database."""
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(exc, "sqlstate", None)
    return sqlstate in RETRYABLE_SQLSTATES or "database is locked" in str(exc)


def _process_chunk_retrying(
    *,
    registry_import_id: int,
    chunk: list[ParsedLine],
    clearing: LedgerAccount,
    actor: Any,
    seen: dict[tuple[str, str], int],
) -> _ChunkCounts | None:
    """``_process_chunk``, retried after a deadlock or serialization failure (the chunk's transaction
    was rolled back as a whole, and a rerun skips what another writer committed meanwhile)."""
    for attempt in range(1, CHUNK_ATTEMPTS + 1):
        seen_before = dict(seen)
        try:
            return _process_chunk(
                registry_import_id=registry_import_id, chunk=chunk, clearing=clearing, actor=actor, seen=seen
            )
        except OperationalError as exc:
            seen.clear()
            seen.update(seen_before)  # the failed attempt's lines were not stored
            if attempt == CHUNK_ATTEMPTS or not _is_retryable(exc):
                raise
            logger.warning(
                "registry import %s: chunk from line %s retried after %s",
                registry_import_id,
                chunk[0].line_no if chunk else 0,
                exc,
            )
            RegistryImport.objects.filter(pk=registry_import_id).update(chunk_retries=F("chunk_retries") + 1)
            time.sleep(CHUNK_RETRY_BACKOFF_SECONDS * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _import_lines(
    *, record: RegistryImport, parsed: list[ParsedLine], actor: Any, chunk_size: int
) -> ImportSummary:
    """Import the parsed lines chunk by chunk. Lines already stored for this import (an earlier,
    interrupted run) are skipped but still count for "repeat of line N of this file"."""
    summary = ImportSummary(registry_import=record)
    clearing = ledger_account_system(code=CLEARING_BANK_REGISTRY)
    seen: dict[tuple[str, str], int] = {}
    stored = set(RegistryLine.objects.filter(registry_import=record).values_list("line_no", flat=True))
    for start in range(0, len(parsed), chunk_size):
        chunk = []
        for ln in parsed[start : start + chunk_size]:
            if ln.line_no not in stored:
                chunk.append(ln)
            elif not ln.reason:
                seen.setdefault((ln.bank, ln.bank_transaction_id), ln.line_no)
        if not chunk:
            continue
        counts = _process_chunk_retrying(
            registry_import_id=record.pk, chunk=chunk, clearing=clearing, actor=actor, seen=seen
        )
        if counts is not None:
            summary.add(counts)
    return summary


def _failure_text(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return _("Внутренняя ошибка: %(error)s") % {"error": str(exc) or type(exc).__name__}


def _import_and_finish(
    *, record: RegistryImport, parsed: list[ParsedLine], actor: Any, chunk_size: int
) -> ImportSummary:
    """Import, then mark the import done (and drop its stored file) or failed with the reason.
    Committed chunks stay: a rerun continues after them and credits nothing twice."""
    try:
        summary = _import_lines(record=record, parsed=parsed, actor=actor, chunk_size=chunk_size)
    except Exception as exc:
        RegistryImport.objects.filter(pk=record.pk).update(
            status=RegistryImport.Status.FAILED, error=_failure_text(exc)[:2000], finished_at=timezone.now()
        )
        raise
    with transaction.atomic():
        RegistryImport.objects.filter(pk=record.pk).update(
            status=RegistryImport.Status.DONE, error="", finished_at=timezone.now()
        )
        RegistryFile.objects.filter(registry_import_id=record.pk).delete()
    record.refresh_from_db()
    summary.registry_import = record
    return summary


def _check_file(data: bytes) -> tuple[str, str]:
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(_("Файл больше 50 МБ: разделите реестр на части."))
    return registry_decode(data)


def registry_import(
    *,
    data: bytes,
    file_name: str,
    actor: Any = None,
    source: str = RegistryImport.Source.UPLOAD,
    chunk_size: int = CHUNK_SIZE,
) -> ImportSummary:
    """Import a registry file now, in this process (the console; tests). Safe to repeat: lines
    already credited are counted as duplicates. The back office queues instead: ``registry_upload``."""
    if actor is not None and getattr(actor, "is_authenticated", False) and not actor.is_staff:
        raise PermissionDenied(_("Загружать реестры могут только сотрудники."))
    text, encoding = _check_file(data)
    parsed = registry_parse(text)
    record = RegistryImport.objects.create(
        file_name=file_name[:255],
        file_sha256=hashlib.sha256(data).hexdigest(),
        file_size=len(data),
        encoding=encoding,
        source=source,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        status=RegistryImport.Status.IMPORTING,
        started_at=timezone.now(),
    )
    audit_log(actor=actor, action="payments.registry_import", target=record, new={"file": file_name})
    return _import_and_finish(record=record, parsed=parsed, actor=actor, chunk_size=chunk_size)


def _header_check(text: str) -> None:
    """The first non-empty line must be the header (checked at upload; the task parses the rest)."""
    first = next((line for line in text.lstrip("\ufeff").splitlines() if line.strip()), None)
    if first is None:
        raise DomainError(_("Файл пуст."))
    _check_header(next(csv.reader([first], delimiter=_delimiter(first))))


def _enqueue(import_id: int) -> None:
    from kabinet.payments.tasks import registry_import_task

    registry_import_task.delay(import_id)


def registry_upload(*, data: bytes, file_name: str, actor: Any) -> RegistryImport:
    """Back office: check the file (size, encoding, header), store it and queue its import. A file
    refused here records nothing. The import runs in ``registry_import_run`` (a Celery task)."""
    _staff_required(actor)
    text, encoding = _check_file(data)
    _header_check(text)
    with transaction.atomic():
        record = RegistryImport.objects.create(
            file_name=file_name[:255],
            file_sha256=hashlib.sha256(data).hexdigest(),
            file_size=len(data),
            encoding=encoding,
            source=RegistryImport.Source.UPLOAD,
            actor=actor,
            status=RegistryImport.Status.QUEUED,
        )
        RegistryFile.objects.create(registry_import=record, data=data)
        audit_log(
            actor=actor,
            action="payments.registry_upload",
            target=record,
            new={"file": file_name, "bytes": len(data), "sha256": record.file_sha256},
        )
        pk = record.pk
        transaction.on_commit(lambda: _enqueue(pk))
    return record


def registry_import_requeue(*, import_id: int, actor: Any) -> RegistryImport:
    """Run a failed import again from its stored file; it continues after the chunks already done."""
    _staff_required(actor)
    with transaction.atomic():
        record = RegistryImport.objects.select_for_update().filter(pk=import_id).first()
        if record is None:
            raise NotFound(_("Реестр не найден."))
        if record.status != RegistryImport.Status.FAILED:
            raise Conflict(_("Повторить можно только загрузку, которая завершилась ошибкой."))
        if not RegistryFile.objects.filter(registry_import=record).exists():
            raise Conflict(_("Файл этого реестра не сохранён: загрузите его ещё раз."))
        old = {"status": record.status, "error": record.error}
        record.status = RegistryImport.Status.QUEUED
        record.error = ""
        record.finished_at = None
        record.save(update_fields=["status", "error", "finished_at", "updated_at"])
        audit_log(
            actor=actor, action="payments.registry_requeue", target=record, old=old, new={"status": "queued"}
        )
        transaction.on_commit(lambda: _enqueue(import_id))
    return record


def registry_import_run(*, import_id: int, chunk_size: int = CHUNK_SIZE) -> RegistryImport | None:
    """The queued import's work (Celery task ``registry_import_task``): parse the stored file and
    import it. Never raises: the import ends done, or failed with the reason staff see. A second
    delivery of the task, or a run after a crash, continues where the previous one stopped."""
    with transaction.atomic():
        record = RegistryImport.objects.select_for_update().filter(pk=import_id).first()
        if record is None or record.status == RegistryImport.Status.DONE:
            return record
        upload = RegistryFile.objects.filter(registry_import=record).first()
        if upload is None:
            record.status = RegistryImport.Status.FAILED
            record.error = _("Файл реестра не сохранён: загрузите его ещё раз.")
            record.finished_at = timezone.now()
            record.save(update_fields=["status", "error", "finished_at", "updated_at"])
            return record
        record.status = RegistryImport.Status.IMPORTING
        record.started_at = record.started_at or timezone.now()
        record.save(update_fields=["status", "started_at", "updated_at"])
        data = bytes(upload.data)
    try:
        text, _encoding = registry_decode(data)
        parsed = registry_parse(text)
    except DomainError as exc:
        RegistryImport.objects.filter(pk=import_id).update(
            status=RegistryImport.Status.FAILED, error=exc.message[:2000], finished_at=timezone.now()
        )
        return RegistryImport.objects.get(pk=import_id)
    try:
        _import_and_finish(record=record, parsed=parsed, actor=record.actor, chunk_size=chunk_size)
    except Exception:
        # Marked failed with the reason; committed chunks stay (a rerun skips them).
        logger.exception("registry import %s failed", import_id)
    return RegistryImport.objects.get(pk=import_id)


def _staff_required(actor: Any) -> None:
    if not (getattr(actor, "is_authenticated", False) and actor.is_staff):
        raise PermissionDenied(_("Действие доступно только сотрудникам."))


def registry_line_resolve_credit(
    *, line_id: int, account_number: str, actor: Any, reason: str = ""
) -> RegistryLine:
    """Credit a line from the review queue to the account staff chose (audited)."""
    _staff_required(actor)
    number = personal_account_number_clean(account_number)
    if not personal_account_number_is_valid(number):
        raise DomainError(_("Неверный номер лицевого счёта: проверьте цифры."), field="account_number")
    account = PersonalAccount.objects.filter(number=number).first()
    if account is None:
        raise NotFound(_("Лицевой счёт %(number)s не найден.") % {"number": number}, field="account_number")
    if account.status == PersonalAccount.Status.TERMINATED:
        raise DomainError(_("Лицевой счёт %(number)s закрыт.") % {"number": number}, field="account_number")
    with transaction.atomic():
        line = RegistryLine.objects.select_for_update().filter(pk=line_id).first()
        if line is None:
            raise NotFound(_("Строка реестра не найдена."))
        if line.status != RegistryLine.Status.NEEDS_REVIEW:
            raise Conflict(_("Эта строка уже разобрана."))
        if line.amount_kopecks is None or line.amount_kopecks <= 0:
            raise DomainError(_("В строке нет верной суммы: её можно только отклонить."))
        if not line.bank or not line.bank_transaction_id or line.paid_on is None:
            raise DomainError(_("В строке нет банка, номера операции или даты: её можно только отклонить."))
        if len(line.bank) > MAX_BANK_LENGTH or len(line.bank_transaction_id) > MAX_TRANSACTION_ID_LENGTH:
            raise DomainError(_("Слишком длинный банк или номер операции: строку можно только отклонить."))
        if Payment.objects.filter(bank=line.bank, bank_transaction_id=line.bank_transaction_id).exists():
            raise Conflict(_("Операция с этим номером уже зачислена: строку можно только отклонить."))
        clearing = ledger_account_system(code=CLEARING_BANK_REGISTRY)
        parsed = ParsedLine(
            line_no=line.line_no,
            raw=line.raw,
            bank=line.bank,
            bank_transaction_id=line.bank_transaction_id,
            paid_on=line.paid_on,
            account_number=account.number,
            amount_kopecks=line.amount_kopecks,
            payer=line.payer,
        )
        payments, raced = _credit_many(
            credits=[
                _Credit(line=parsed, account_id=account.pk, ledger_account_id=account.ledger_account_id)
            ],
            clearing=clearing,
            actor=actor,
            now=timezone.now(),
        )
        if raced:
            raise Conflict(_("Операция с этим номером уже зачислена: строку можно только отклонить."))
        old = {"status": line.status, "account_number": line.account_number}
        line.status = RegistryLine.Status.RESOLVED
        line.personal_account = account
        line.payment = payments[0]
        line.resolved_by = actor
        line.resolved_at = timezone.now()
        line.resolution_reason = reason[:255]
        line.save()
        audit_log(
            actor=actor,
            action="payments.registry_line_resolve",
            target=line,
            old=old,
            new={
                "status": line.status,
                "account_number": account.number,
                "payment": str(payments[0].public_id),
            },
            reason=reason,
        )
        payments_credited_notify(payments=payments)
        _restore_service(payments=payments, actor=actor)
    return line


def registry_line_reject(*, line_id: int, actor: Any, reason: str) -> RegistryLine:
    """Reject a line from the review queue (the bank will be asked to return the money); audited."""
    _staff_required(actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Укажите причину отказа."), field="reason")
    with transaction.atomic():
        line = RegistryLine.objects.select_for_update().filter(pk=line_id).first()
        if line is None:
            raise NotFound(_("Строка реестра не найдена."))
        if line.status != RegistryLine.Status.NEEDS_REVIEW:
            raise Conflict(_("Эта строка уже разобрана."))
        line.status = RegistryLine.Status.REJECTED
        line.resolved_by = actor
        line.resolved_at = timezone.now()
        line.resolution_reason = reason[:255]
        line.save()
        audit_log(
            actor=actor,
            action="payments.registry_line_reject",
            target=line,
            old={"status": RegistryLine.Status.NEEDS_REVIEW},
            new={"status": line.status},
            reason=reason,
        )
    return line
