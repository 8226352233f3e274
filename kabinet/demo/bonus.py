"""Demo data of helper PAY-B: every demo subscriber joins «Летай Бонус», and a small bank registry is
imported once (two payments credited, one line left in the back office's review queue)."""

from __future__ import annotations

from kabinet.billing.models import PersonalAccount
from kabinet.bonus.services import bonus_enroll_missing
from kabinet.payments.models import RegistryImport
from kabinet.payments.registries import registry_import

DEMO_REGISTRY = "demo-sberbank-registry.csv"


def load_bonus_and_registry() -> list[str]:
    lines: list[str] = []
    enrolled = bonus_enroll_missing()
    if enrolled:
        lines.append(f"«Летай Бонус»: новых участников программы — {enrolled}.")
    if RegistryImport.objects.filter(file_name=DEMO_REGISTRY).exists():
        return lines
    accounts = list(
        PersonalAccount.objects.exclude(status=PersonalAccount.Status.TERMINATED)
        .filter(links__user__is_staff=False)
        .order_by("number")
        .values_list("number", flat=True)
        .distinct()[:2]
    )
    if not accounts:
        return lines
    rows = ["bank;date;transaction_id;account;amount;payer"]
    for n, number in enumerate(accounts, start=1):
        rows.append(f"Сбербанк;20.11.2026;DEMO-SBOL-{n:04d};{number};{300 * n};Демо-плательщик {n}")
    rows.append("Сбербанк;20.11.2026;DEMO-SBOL-0099;1000000008;250;Плательщик с ошибкой в номере")
    summary = registry_import(data=("\n".join(rows) + "\n").encode(), file_name=DEMO_REGISTRY)
    lines.append(
        f"Реестр банка {DEMO_REGISTRY}: зачислено {summary.credited}, на проверке {summary.to_review} "
        "(бэк-офис → Платежи → На проверке)."
    )
    return lines
