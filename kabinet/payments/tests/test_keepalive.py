"""The acquirer client's keep-alive connections (kabinet.payments.acquirer.keepalive), against a small
HTTP/1.1 server on 127.0.0.1 that counts its connections."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from kabinet.payments.acquirer.client import AcquirerClient
from kabinet.payments.acquirer.interface import AcquirerUnavailable
from kabinet.payments.acquirer.keepalive import KeepAliveConnections

BODY = b'{"id": "p-1", "status": "pending", "paid": false, "amount": {"value": "1.00", "currency": "RUB"}}'


class Server:
    """Answers every request with BODY. ``close_after_answer``: closes the connection after each answer
    without saying so (as a server whose idle timeout ran out); ``delay``: waits before answering."""

    def __init__(self, *, close_after_answer: bool = False, delay: float = 0.0) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        self.close_after_answer = close_after_answer
        self.delay = delay
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _addr = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + buffer[:length])
                buffer = buffer[length:]
                time.sleep(self.delay)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
                    + BODY
                )
                if self.close_after_answer:
                    return

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def _client(
    port: int, pool: KeepAliveConnections, timeout: tuple[float, float] = (3.0, 5.0)
) -> AcquirerClient:
    import kabinet.payments.acquirer.client as client_module

    client_module._pool = pool
    return AcquirerClient(
        base_url=f"http://127.0.0.1:{port}/api/v3", shop_id="100500", secret_key="s3cret", timeout=timeout
    )


@pytest.fixture(autouse=True)
def _restore_pool() -> Iterator[None]:
    import kabinet.payments.acquirer.client as client_module

    pool = client_module._pool
    yield
    client_module._pool.clear()
    client_module._pool = pool


def test_a_thread_reuses_its_connection_and_sends_the_protocols_headers(server: Server) -> None:
    pool = KeepAliveConnections()
    client = _client(server.port, pool)
    for _ in range(3):
        assert client.payment_get(payment_id="p-1").status == "pending"
    client.payment_cancel(payment_id="p-1", idempotence_key="k-1")
    assert server.connections == 1
    assert len(server.requests) == 4
    post = server.requests[-1].decode()
    assert post.startswith("POST /api/v3/payments/p-1/cancel HTTP/1.1\r\n")
    assert "Authorization: Basic MTAwNTAwOnMzY3JldA==" in post  # base64("100500:s3cret")
    assert "Idempotence-Key: k-1" in post and post.endswith("{}")


def test_threads_have_connections_of_their_own(server: Server) -> None:
    pool = KeepAliveConnections()
    client = _client(server.port, pool)
    threads = [
        threading.Thread(target=lambda: [client.payment_get(payment_id="p-1") for _ in range(2)])
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.connections == 3
    assert len(server.requests) == 6


def test_a_connection_the_server_closed_while_idle_is_replaced_before_use() -> None:
    server = Server(close_after_answer=True)
    try:
        pool = KeepAliveConnections()
        client = _client(server.port, pool)
        client.payment_get(payment_id="p-1")
        time.sleep(0.1)  # the server's close reaches our socket
        assert client.payment_get(payment_id="p-1").status == "pending"
        assert server.connections == 2
    finally:
        server.close()


def test_an_acquirer_that_does_not_answer_in_time_is_unavailable() -> None:
    server = Server(delay=1.0)
    try:
        client = _client(server.port, KeepAliveConnections(), timeout=(1.0, 0.2))
        with pytest.raises(AcquirerUnavailable):
            client.payment_get(payment_id="p-1")
        # nothing listens here: no connection at all
        closed = socket.create_server(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()
        with pytest.raises(AcquirerUnavailable):
            _client(port, KeepAliveConnections()).payment_get(payment_id="p-1")
    finally:
        server.close()


def test_each_call_has_its_own_read_timeout_on_a_reused_connection() -> None:
    server = Server(delay=0.3)
    try:
        pool = KeepAliveConnections()
        assert (
            _client(server.port, pool, timeout=(1.0, 2.0)).payment_get(payment_id="p-1").status == "pending"
        )
        with pytest.raises(AcquirerUnavailable):
            _client(server.port, pool, timeout=(1.0, 0.1)).payment_get(payment_id="p-1")
    finally:
        server.close()
