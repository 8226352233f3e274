"""HTTP/1.1 keep-alive connections to the acquirer: one per thread and host, on ``http.client``.

The acquirer client makes two calls per notification (the status fetch and the capture). Through a
urllib3 pool manager each call also paid for the pool's bookkeeping (URL parsing and pool keys, timeout
and retry objects, its response wrapper): about a tenth of the notification endpoint's CPU samples.
Here a thread reuses its own connection; a connection the server closed while idle (its socket is
readable) is replaced before use, as urllib3 does. No automatic retries: a POST is repeated only by
our code, with its Idempotence-Key. HTTPS verifies the certificate with the default context.
"""

from __future__ import annotations

import http.client
import socket
import threading
import weakref
from urllib.parse import urlsplit

from kabinet.core.sockets import socket_readable


class KeepAliveConnections:
    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        # every thread's connections, for clear(); a thread's go when it ends
        self._open: weakref.WeakSet[http.client.HTTPConnection] = weakref.WeakSet()

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: dict[str, str],
        timeout: tuple[float, float],
    ) -> tuple[int, bytes]:
        """One exchange: (status, body). Raises OSError or http.client.HTTPException when there is no
        answer (the connection is then closed)."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "", parts.port)
        connections: dict[tuple[str, str, int | None], http.client.HTTPConnection] = (
            self._local.__dict__.setdefault("connections", {})
        )
        connection = connections.get(key)
        if (
            connection is not None
            and connection.sock is not None
            and socket_readable(connection.sock.fileno())
        ):
            connection.close()  # closed by the server while idle
        if connection is None:
            kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            connection = kind(key[1], key[2], timeout=timeout[0])
            connections[key] = connection
            with self._lock:
                self._open.add(connection)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            if connection.sock is None:
                connection.timeout = timeout[0]  # connect within this
                connection.connect()
            sock: socket.socket = connection.sock  # type: ignore[assignment]
            sock.settimeout(timeout[1])  # then each answer within this
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            raise
        if response.will_close:
            connection.close()
        return response.status, data

    def clear(self) -> None:
        """Close every thread's connections (tests: a live server's threads end with them)."""
        with self._lock:
            for connection in list(self._open):
                connection.close()
