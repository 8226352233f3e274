"""A local stand-in for the operator's SMSC: a small SMPP 3.4 server for the demo and the tests.

It accepts bind_transceiver/bind_transmitter, enquire_link, submit_sm (reassembling UDH-concatenated
parts, decoding UCS-2 and GSM default alphabet) and unbind, and hands each complete message to a
callback. Only for 127.0.0.1.
"""

from __future__ import annotations

import itertools
import socket
import socketserver
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import smpplib.command
import smpplib.consts
import smpplib.gsm
import smpplib.smpp


@dataclass
class ReceivedSms:
    to: str
    source: str
    text: str


def _decode(data: bytes, data_coding: int) -> str:
    if data_coding == smpplib.consts.SMPP_ENCODING_ISO10646:
        return data.decode("utf-16-be")
    if data_coding == smpplib.consts.SMPP_ENCODING_DEFAULT:
        table = smpplib.gsm.GSM_CHARACTER_TABLE
        return "".join(table[b] if b < len(table) else "?" for b in data)
    return data.decode("latin-1")


@dataclass
class StandinState:
    on_message: Callable[[ReceivedSms], None]
    system_id: str = ""
    password: str = ""
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    parts: dict[tuple[str, int], dict[int, bytes]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _SequenceStub:
    """smpplib's PDU factory wants a client that hands out sequence numbers; the server echoes the
    request's sequence in every reply, so this one only satisfies the constructor."""

    sequence = 0

    def next_sequence(self) -> int:
        return 0


_STUB = _SequenceStub()


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def _read_pdu(self) -> bytes | None:
        header = self._recv(4)
        if not header:
            return None
        (length,) = struct.unpack(">L", header)
        return header + self._recv(length - 4)

    def _recv(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                return b""
            buf += chunk
        return buf

    def _reply(self, command: str, sequence: int, status: int = 0, **kwargs: object) -> None:
        pdu = smpplib.smpp.make_pdu(command, client=_STUB, sequence=sequence, status=status, **kwargs)
        self.request.sendall(pdu.generate())

    def handle(self) -> None:
        state = self.server.state
        bound = False
        while True:
            data = self._read_pdu()
            if data is None:
                return
            pdu = smpplib.smpp.parse_pdu(data, client=_STUB, allow_unknown_opt_params=True)
            seq = pdu.sequence
            if pdu.command in ("bind_transceiver", "bind_transmitter"):
                ok = (not state.system_id or pdu.system_id.decode() == state.system_id) and (
                    not state.password or pdu.password.decode() == state.password
                )
                status = 0 if ok else smpplib.consts.SMPP_ESME_RINVPASWD
                self._reply(pdu.command + "_resp", seq, status=status, system_id="standin")
                bound = ok
            elif pdu.command == "enquire_link":
                self._reply("enquire_link_resp", seq)
            elif pdu.command == "unbind":
                self._reply("unbind_resp", seq)
                return
            elif pdu.command == "submit_sm":
                if not bound:
                    self._reply("submit_sm_resp", seq, status=smpplib.consts.SMPP_ESME_RINVBNDSTS)
                    continue
                message_id = str(next(state.ids))
                # Store before acknowledging: once the client has its submit_sm_resp, the message exists.
                self._accept_part(pdu)
                self._reply("submit_sm_resp", seq, message_id=message_id)

    def _accept_part(self, pdu: smpplib.command.Command) -> None:
        state = self.server.state
        to = "+" + pdu.destination_addr.decode()
        source = pdu.source_addr.decode()
        body: bytes = pdu.short_message
        if pdu.esm_class & smpplib.consts.SMPP_GSMFEAT_UDHI:
            udh_len = body[0]
            udh, body = body[1 : 1 + udh_len], body[1 + udh_len :]
            # IEI 0x00: 8-bit reference, total, number.
            ref, total, number = udh[2], udh[3], udh[4]
            with state.lock:
                parts = state.parts.setdefault((to, ref), {})
                parts[number] = body
                if len(parts) < total:
                    return
                body = b"".join(parts[i] for i in sorted(parts))
                del state.parts[(to, ref)]
        state.on_message(ReceivedSms(to=to, source=source, text=_decode(body, pdu.data_coding)))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: StandinState


def smsc_standin_start(
    *, on_message: Callable[[ReceivedSms], None], port: int = 0, system_id: str = "", password: str = ""
) -> tuple[_Server, int]:
    """Start the stand-in on 127.0.0.1 in a background thread; returns (server, port)."""
    server = _Server(("127.0.0.1", port), _Handler)
    server.state = StandinState(on_message=on_message, system_id=system_id, password=password)
    threading.Thread(target=server.serve_forever, name="smsc-standin", daemon=True).start()
    return server, server.server_address[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0
