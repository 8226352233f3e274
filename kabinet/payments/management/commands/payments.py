"""`kabinet payments <subcommand>`: payment operations from the console.

kabinet payments import-registry FILE [--json]   import a bank payment registry (docs/registries.md)
kabinet payments autopay-run                      run due autopays now (the periodic task does it too)
kabinet payments bonus-expire                     expire bonus points past their date
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kabinet.core.exceptions import DomainError
from kabinet.core.money import format_kopecks
from kabinet.payments.models import RegistryImport


class Command(BaseCommand):
    help = "Операции с платежами: загрузка реестров банков, автоплатежи."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        imp = sub.add_parser("import-registry", help="Загрузить реестр платежей банка (CSV).")
        imp.add_argument("file", help="Путь к файлу реестра")
        imp.add_argument("--json", action="store_true", help="Итог в JSON")
        imp.add_argument("--chunk-size", type=int, default=2000)
        sub.add_parser("autopay-run", help="Выполнить автоплатежи, срок которых наступил.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "import-registry":
            self._import_registry(options)
        elif options["subcommand"] == "autopay-run":
            from kabinet.payments.autopay import autopay_run_due

            result = autopay_run_due()
            self.stdout.write(json.dumps(result, ensure_ascii=False))

    def _import_registry(self, options: dict[str, Any]) -> None:
        from kabinet.payments.registries import registry_import

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"Файл не найден: {path}")
        try:
            summary = registry_import(
                data=path.read_bytes(),
                file_name=path.name,
                source=RegistryImport.Source.CLI,
                chunk_size=options["chunk_size"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        record = summary.registry_import
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "import_id": record.pk,
                        "file": record.file_name,
                        "encoding": record.encoding,
                        "lines": summary.lines,
                        "credited": summary.credited,
                        "credited_kopecks": summary.credited_kopecks,
                        "duplicates": summary.duplicates,
                        "to_review": summary.to_review,
                        "total_kopecks": summary.total_kopecks,
                    },
                    ensure_ascii=False,
                )
            )
            return
        self.stdout.write(
            f"Реестр {record.file_name} (№{record.pk}, {record.encoding}): строк {summary.lines}, "
            f"зачислено {summary.credited} на {format_kopecks(summary.credited_kopecks)}, "
            f"повторов {summary.duplicates}, на проверку {summary.to_review}, "
            f"сумма по файлу {format_kopecks(summary.total_kopecks)}."
        )
