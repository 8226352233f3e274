"""SMS to the operator's SMSC over SMPP 3.4.

Web and worker processes never bind to the SMSC themselves: ``smpp_enqueue`` puts the message on a
Redis list, and one long-lived sender process (``kabinet smpp_sender``) keeps a single
bind_transceiver session, takes messages off the list and submits them (UCS-2 with UDH concatenation
for Cyrillic text longer than one part). A message that could not be submitted goes back to the head
of the list and the sender reconnects with a growing pause.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.gsm
import smpplib.smpp
from django.conf import settings

logger = logging.getLogger(__name__)

QUEUE_KEY = "kabinet:sms:outgoing"


def smpp_enqueue(*, to: str, text: str) -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.rpush(QUEUE_KEY, json.dumps({"to": to, "text": text}, ensure_ascii=False))


@dataclass
class SmppConfig:
    host: str
    port: int
    system_id: str
    password: str
    source_addr: str
    timeout_s: float = 10.0

    @classmethod
    def from_settings(cls) -> SmppConfig:
        return cls(
            host=settings.SMPP_HOST,
            port=settings.SMPP_PORT,
            system_id=settings.SMPP_SYSTEM_ID,
            password=settings.SMPP_PASSWORD,
            source_addr=settings.SMPP_SOURCE_ADDR,
        )


@dataclass
class SmppSender:
    """One SMPP session. ``send`` blocks until the SMSC acknowledged every part (submit_sm_resp)."""

    config: SmppConfig
    client: Any = None
    _acked: list[str] = field(default_factory=list)

    def connect(self) -> None:
        client = smpplib.client.Client(
            self.config.host, self.config.port, timeout=self.config.timeout_s, allow_unknown_opt_params=True
        )
        client.set_message_sent_handler(lambda pdu: self._acked.append(pdu.message_id))
        try:
            client.connect()
            client.bind_transceiver(system_id=self.config.system_id, password=self.config.password)
        except Exception:
            client.disconnect()
            raise
        self.client = client

    def close(self) -> None:
        if self.client is None:
            return
        try:
            self.client.unbind()
        except Exception:  # noqa: S110 - closing a broken session is best effort
            pass
        self.client.disconnect()
        self.client = None

    def send(self, *, to: str, text: str) -> list[str]:
        """Submit one SMS (split into parts as needed); returns the SMSC's message ids."""
        if self.client is None:
            self.connect()
        parts, encoding_flag, msg_type_flag = smpplib.gsm.make_parts(text)
        self._acked.clear()
        for part in parts:
            self.client.send_message(
                source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                source_addr_npi=smpplib.consts.SMPP_NPI_UNK,
                source_addr=self.config.source_addr,
                dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                destination_addr=to.lstrip("+"),
                short_message=part,
                data_coding=encoding_flag,
                esm_class=msg_type_flag,
                registered_delivery=False,
            )
        while len(self._acked) < len(parts):
            self.client.read_once()
        return [m.decode() if isinstance(m, bytes) else str(m) for m in self._acked]

    def enquire_link(self) -> None:
        if self.client is not None:
            self.client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=self.client))
            self.client.read_once()


def smpp_run_sender(
    *,
    sender: SmppSender,
    pop: Callable[[float], dict[str, str] | None],
    push_back: Callable[[dict[str, str]], None],
    should_stop: Callable[[], bool] = lambda: False,
    idle_s: float = 5.0,
    keepalive_s: float = 30.0,
) -> int:
    """The sender loop: pop a message, submit it, repeat; keeps the bind alive while idle.

    Returns how many messages were sent when ``should_stop`` says so.
    """
    sent = 0
    backoff = 1.0
    last_activity = time.monotonic()
    while not should_stop():
        message = pop(idle_s)
        try:
            if message is None:
                if time.monotonic() - last_activity >= keepalive_s:
                    sender.enquire_link()
                    last_activity = time.monotonic()
                continue
            sender.send(to=message["to"], text=message["text"])
            sent += 1
            backoff = 1.0
            last_activity = time.monotonic()
        except Exception:
            logger.exception("SMPP session failed; reconnecting in %.0f s", backoff)
            if message is not None:
                push_back(message)
            sender.close()
            time.sleep(backoff)
            backoff = min(backoff * 2, 60.0)
    return sent


def redis_queue_functions(
    url: str,
) -> tuple[Callable[[float], dict[str, str] | None], Callable[[dict[str, str]], None]]:
    import redis

    client = redis.Redis.from_url(url)

    def pop(timeout: float) -> dict[str, str] | None:
        item = client.blpop([QUEUE_KEY], timeout=max(1, int(timeout)))
        return json.loads(item[1]) if item else None

    def push_back(message: dict[str, str]) -> None:
        client.lpush(QUEUE_KEY, json.dumps(message, ensure_ascii=False))

    return pop, push_back
