import datetime as dt
import io

import pytest
from django.core.management import call_command

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.services import CLEARING_BANK_REGISTRY, ledger_account_system
from kabinet.billing.tests.factories import PersonalAccountFactory
from kabinet.core.exceptions import Conflict, DomainError, PermissionDenied
from kabinet.core.models import AuditEvent
from kabinet.identity.models import User
from kabinet.payments.models import Payment, PaymentEvent, RegistryImport, RegistryLine
from kabinet.payments.registries import registry_import, registry_line_reject, registry_line_resolve_credit


def _pa(**kwargs: object) -> PersonalAccount:
    return PersonalAccountFactory(**kwargs)  # type: ignore[return-value]


HEADER = "bank;date;transaction_id;account;amount;payer\n"


def _balance(account: PersonalAccount) -> int:
    return LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(email="operator@letai.test", password="x", is_staff=True)


@pytest.mark.django_db
def test_good_lines_are_credited_once_with_payment_and_events() -> None:
    # given
    first = _pa()
    second = _pa()
    text = (
        HEADER
        + f"Сбербанк;25.11.2026;SB-1;{first.number};157,50;Иванов И. И.\n"
        + f"Альфа-Банк;2026-11-25;AB-9;{second.number};1000;Петров П. П.\n"
    )
    # when
    summary = registry_import(data=text.encode(), file_name="sber.csv")
    # then
    assert (summary.lines, summary.credited, summary.duplicates, summary.to_review) == (2, 2, 0, 0)
    assert summary.credited_kopecks == 115750
    assert summary.total_kopecks == 115750
    assert _balance(first) == 15750
    assert _balance(second) == 100000
    payment = Payment.objects.get(bank="Сбербанк", bank_transaction_id="SB-1")
    assert payment.method == Payment.Method.BANK_REGISTRY
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.personal_account_id == first.pk
    assert payment.payer == "Иванов И. И."
    transfer = LedgerTransfer.objects.get(payment=payment)
    assert transfer.key == "registry:Сбербанк:SB-1"
    assert transfer.value_date == dt.date(2026, 11, 25)
    assert list(PaymentEvent.objects.filter(payment=payment).values_list("kind", "message")) == [
        ("credited", "Платёж из реестра банка Сбербанк")
    ]
    assert ledger_account_system(code=CLEARING_BANK_REGISTRY).balance_kopecks == -115750
    record = RegistryImport.objects.get()
    assert (record.status, record.lines_total, record.credited_count) == ("done", 2, 2)


@pytest.mark.django_db
def test_reimport_of_same_file_credits_nothing() -> None:
    # given
    account = _pa()
    data = (HEADER + f"Сбербанк;25.11.2026;SB-1;{account.number};500;Иванов\n").encode()
    registry_import(data=data, file_name="a.csv")
    # when
    again = registry_import(data=data, file_name="a.csv")
    # then
    assert (again.lines, again.credited, again.duplicates, again.to_review) == (1, 0, 1, 0)
    assert again.credited_kopecks == 0
    assert _balance(account) == 50000
    assert Payment.objects.count() == 1
    assert LedgerTransfer.objects.filter(key__startswith="registry:").count() == 1
    line = RegistryLine.objects.get(registry_import=again.registry_import)
    assert line.status == RegistryLine.Status.DUPLICATE
    assert line.reason == "Эта операция банка уже зачислена."


@pytest.mark.django_db
def test_same_line_twice_in_a_file_and_in_another_file_credits_once() -> None:
    # given
    account = _pa()
    line = f"Сбербанк;25.11.2026;SB-7;{account.number};100;Иванов\n"
    # when
    first = registry_import(data=(HEADER + line + line).encode(), file_name="a.csv")
    other = registry_import(
        data=(HEADER + line + f"Сбербанк;25.11.2026;SB-8;{account.number};200;Иванов\n").encode(),
        file_name="b.csv",
    )
    # then
    assert (first.credited, first.duplicates) == (1, 1)
    assert RegistryLine.objects.get(registry_import=first.registry_import, line_no=3).reason == (
        "Повтор строки 2 этого файла."
    )
    assert (other.credited, other.duplicates) == (1, 1)
    assert _balance(account) == 30000


@pytest.mark.django_db
def test_bad_lines_go_to_review_with_reasons_and_nothing_is_dropped() -> None:
    # given
    account = _pa()
    good = account.number
    bad_digit = good[:-1] + str((int(good[-1]) + 1) % 10)
    unknown = "1000000008"  # valid check digit, no such account
    assert not PersonalAccount.objects.filter(number=unknown).exists()
    text = (
        HEADER
        + f"Сбербанк;25.11.2026;T1;{bad_digit};100;А\n"
        + f"Сбербанк;25.11.2026;T2;{unknown};100;Б\n"
        + f"Сбербанк;25.11.2026;T3;{good};abc;В\n"
        + f"Сбербанк;25.11.2026;T4;{good};-5;Г\n"
        + f"Сбербанк;25.11.2026;T5;{good};0;Д\n"
        + f"Сбербанк;25.11.2026;T6;{good};1e3;Е\n"
        + f"Сбербанк;31.02.2026;T7;{good};100;Ж\n"
        + f"Сбербанк;25.11.2026;T8;{good};100\n"
        + f"Сбербанк;25.11.2026;;{good};100;И\n"
        + f"Сбербанк;25.11.2026;T9;{good};157.505;К\n"
        + "Сбербанк;25.11.2026;T10;12345;100;Л\n"
        + f"Сбербанк;25.11.2026;T11;{good};100;Хороший\n"
        + f"Сбербанк;25.11.2026;T12;{good};1000000,01;М\n"
        + f"Сбербанк;25.11.2026;T13;{good};1000000;Н\n"
    )
    # when
    summary = registry_import(data=text.encode(), file_name="bad.csv")
    # then
    assert (summary.lines, summary.credited, summary.to_review) == (14, 2, 12)
    reasons = dict(RegistryLine.objects.filter(status="needs_review").values_list("line_no", "reason"))
    assert reasons == {
        2: f"Неверная контрольная цифра в номере лицевого счёта «{bad_digit}».",
        3: f"Лицевой счёт {unknown} не найден.",
        4: "Неверная сумма «abc»: Сумма указана неверно: введите число, например 157.",
        5: "Неверная сумма «-5»: Сумма должна быть больше нуля.",
        6: "Неверная сумма «0»: Сумма должна быть больше нуля.",
        7: "Неверная сумма «1e3»: Сумма указана неверно: введите число, например 157.",
        8: "Неверная дата «31.02.2026»: ожидается ДД.ММ.ГГГГ или ГГГГ-ММ-ДД.",
        9: "Неверное число полей: 5 вместо 6.",
        10: "Не указан номер операции банка.",
        11: "Неверная сумма «157.505»: Сумма указана неверно: введите число, например 157.",
        12: "Номер лицевого счёта «12345» должен состоять из 10 цифр.",
        14: "Сумма больше 1 000 000 ₽: проверьте строку с банком.",
    }
    assert _balance(account) == 10000 + 100_000_000
    assert RegistryLine.objects.count() == 14


@pytest.mark.django_db
def test_cp1251_comma_separated_file_with_russian_header() -> None:
    # given
    account = _pa()
    text = (
        "Банк,Дата,Номер операции,Лицевой счёт,Сумма,Плательщик\r\n"
        f'Сбербанк,25.11.2026,CP-1,{account.number},"250,00",Сидорова Ё. Ж.\r\n'
    )
    # when
    summary = registry_import(data=text.encode("cp1251"), file_name="cp.csv")
    # then
    assert summary.credited == 1
    assert summary.registry_import.encoding == "cp1251"
    assert Payment.objects.get().payer == "Сидорова Ё. Ж."
    assert _balance(account) == 25000


@pytest.mark.django_db
def test_file_without_header_is_refused_and_changes_nothing() -> None:
    account = _pa()
    with pytest.raises(DomainError) as exc:
        registry_import(data=f"Сбербанк;25.11.2026;X;{account.number};100;А\n".encode(), file_name="x.csv")
    assert "заголовком" in exc.value.message
    assert RegistryImport.objects.count() == 0
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_payment_unblocks_account_blocked_for_debt() -> None:
    # given
    account = _pa(balance_kopecks=-5000, status=PersonalAccount.Status.BLOCKED_DEBT)
    # when
    registry_import(
        data=(HEADER + f"Сбербанк;25.11.2026;U1;{account.number};100;А\n").encode(), file_name="u.csv"
    )
    # then
    account.refresh_from_db()
    assert account.status == PersonalAccount.Status.ACTIVE
    payment = Payment.objects.get()
    assert payment.service_restored_at is not None
    assert PaymentEvent.objects.filter(payment=payment, kind="service_restored").count() == 1


@pytest.mark.django_db
def test_staff_resolves_review_line_by_assigning_account(staff) -> None:
    # given
    account = _pa()
    summary = registry_import(
        data=(HEADER + "Сбербанк;25.11.2026;R1;1000000008;300;Иванов\n").encode(), file_name="r.csv"
    )
    line = RegistryLine.objects.get(registry_import=summary.registry_import)
    # when
    registry_line_resolve_credit(
        line_id=line.pk, account_number=account.number, actor=staff, reason="Опечатка"
    )
    # then
    line.refresh_from_db()
    assert line.status == RegistryLine.Status.RESOLVED
    assert line.resolved_by == staff
    assert Payment.objects.get(pk=line.payment_id or 0).amount_kopecks == 30000
    assert _balance(account) == 30000
    event = AuditEvent.objects.get(action="payments.registry_line_resolve")
    assert event.actor == staff
    assert event.reason == "Опечатка"
    assert event.new == {
        "status": "resolved",
        "account_number": account.number,
        "payment": str(Payment.objects.get(pk=line.payment_id or 0).public_id),
    }
    # and a second resolve or a reimport credits nothing more
    with pytest.raises(Conflict):
        registry_line_resolve_credit(line_id=line.pk, account_number=account.number, actor=staff)
    registry_import(
        data=(HEADER + f"Сбербанк;25.11.2026;R1;{account.number};300;Иванов\n").encode(), file_name="r2.csv"
    )
    assert _balance(account) == 30000


@pytest.mark.django_db
def test_staff_rejects_review_line_with_reason(staff) -> None:
    summary = registry_import(
        data=(HEADER + "Сбербанк;25.11.2026;R2;1000000008;300;Иванов\n").encode(), file_name="r.csv"
    )
    line = RegistryLine.objects.get(registry_import=summary.registry_import)
    with pytest.raises(DomainError):
        registry_line_reject(line_id=line.pk, actor=staff, reason="  ")
    registry_line_reject(line_id=line.pk, actor=staff, reason="Возврат плательщику")
    line.refresh_from_db()
    assert line.status == RegistryLine.Status.REJECTED
    assert line.resolution_reason == "Возврат плательщику"
    assert AuditEvent.objects.filter(action="payments.registry_line_reject", actor=staff).count() == 1


@pytest.mark.django_db
def test_subscriber_cannot_resolve_or_import() -> None:
    # given
    subscriber = User.objects.create_user(email="abonent@example.test", password="x")
    account = _pa()
    summary = registry_import(
        data=(HEADER + "Сбербанк;25.11.2026;R3;1000000008;300;Иванов\n").encode(), file_name="r.csv"
    )
    line = RegistryLine.objects.get(registry_import=summary.registry_import)
    # when / then
    with pytest.raises(PermissionDenied):
        registry_line_resolve_credit(line_id=line.pk, account_number=account.number, actor=subscriber)
    with pytest.raises(PermissionDenied):
        registry_import(data=b"x", file_name="x.csv", actor=subscriber)
    line.refresh_from_db()
    assert line.status == RegistryLine.Status.NEEDS_REVIEW
    assert _balance(account) == 0


@pytest.mark.django_db
def test_management_command_imports_file(tmp_path) -> None:
    # given
    account = _pa()
    path = tmp_path / "reg.csv"
    path.write_text(HEADER + f"Сбербанк;25.11.2026;CLI-1;{account.number};42;Иванов\n", encoding="utf-8")
    out = io.StringIO()
    # when
    call_command("payments", "import-registry", str(path), "--json", stdout=out)
    call_command("payments", "import-registry", str(path), "--json", stdout=out)
    # then
    lines = out.getvalue().strip().splitlines()
    assert '"credited": 1' in lines[0]
    assert '"credited": 0' in lines[1] and '"duplicates": 1' in lines[1]
    assert _balance(account) == 4200


@pytest.mark.django_db
def test_small_chunks_give_the_same_result() -> None:
    accounts = [_pa() for _ in range(5)]
    text = HEADER + "".join(f"Сбер;25.11.2026;C{i};{a.number};{i + 1};Х\n" for i, a in enumerate(accounts))
    summary = registry_import(data=text.encode(), file_name="c.csv", chunk_size=2)
    assert (summary.lines, summary.credited) == (5, 5)
    assert [_balance(a) for a in accounts] == [100, 200, 300, 400, 500]
