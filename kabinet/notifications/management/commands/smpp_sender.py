import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kabinet.notifications.smpp import SmppConfig, SmppSender, redis_queue_functions, smpp_run_sender


class Command(BaseCommand):
    help = "The long-lived SMS sender: one SMPP bind to the SMSC, messages taken from the Redis queue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-messages", type=int, default=0, help="stop after N messages (0: run forever)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.REDIS_URL:
            raise CommandError("REDIS_URL is not set: the SMS queue lives in Redis.")
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        pop, push_back = redis_queue_functions(settings.REDIS_URL)
        sent = {"n": 0}
        limit = options["max_messages"]

        def counting_pop(timeout: float) -> dict[str, str] | None:
            message = pop(timeout)
            if message is not None:
                sent["n"] += 1
            return message

        sender = SmppSender(SmppConfig.from_settings())
        smpp_run_sender(
            sender=sender,
            pop=counting_pop,
            push_back=push_back,
            should_stop=lambda: stop["now"] or bool(limit and sent["n"] >= limit),
        )
        sender.close()
        self.stdout.write(f"SMS sender stopped after {sent['n']} messages.")
