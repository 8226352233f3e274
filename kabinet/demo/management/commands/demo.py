from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kabinet.demo.loaders import LOADERS


class Command(BaseCommand):
    help = "Load the demo operator (catalog, subscribers, history). Idempotent: run it any number of times."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo data is not loaded into a production installation.")
        logins: list[str] = []
        for loader in LOADERS:
            logins.extend(loader() or [])
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        if logins:
            self.stdout.write("Demo logins:")
            for line in logins:
                self.stdout.write(f"  {line}")
