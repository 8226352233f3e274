import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kabinet.notifications.selectors import outbox_list


class Command(BaseCommand):
    help = "Print the dev outbox (emails and SMS captured by the embedded default), newest first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--last", type=int, default=20)
        parser.add_argument("--json", action="store_true", help="one JSON object per line")
        parser.add_argument("--channel", choices=["email", "sms"])
        parser.add_argument("--to")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEV_OUTBOX:
            raise CommandError("The dev outbox is disabled in production.")
        for msg in outbox_list(last=options["last"], channel=options["channel"], to=options["to"]):
            row = {
                "channel": msg.channel,
                "to": msg.to,
                "subject": msg.subject,
                "body": msg.body,
                "sent_at": msg.sent_at.isoformat(),
            }
            if options["json"]:
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            else:
                self.stdout.write(
                    f"[{row['sent_at']}] {row['channel']} → {row['to']}  {row['subject']}\n{row['body']}\n"
                )
