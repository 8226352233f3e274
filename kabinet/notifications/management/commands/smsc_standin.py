import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kabinet.notifications.outbox import outbox_store_sms
from kabinet.notifications.smsc_standin import ReceivedSms, smsc_standin_start


class Command(BaseCommand):
    help = "Run the local SMSC stand-in (SMPP on 127.0.0.1); received SMS land in the dev outbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=2775)

    def handle(self, *args: Any, **options: Any) -> None:
        def store(sms: ReceivedSms) -> None:
            outbox_store_sms(to=sms.to, text=sms.text)

        _server, port = smsc_standin_start(on_message=store, port=options["port"])
        self.stdout.write(f"SMSC stand-in listening on 127.0.0.1:{port}")
        while True:
            time.sleep(3600)
