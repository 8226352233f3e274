"""Django's PostgreSQL backend, whose per-request connection health check sends nothing to the server.

With ``CONN_HEALTH_CHECKS`` Django runs ``SELECT 1`` before the first query of every request on a reused
connection. That round trip was one in ten of the statements an acquirer notification costs (ours, the
status fetch's and the capture's). An idle connection's socket has nothing to read unless the server
closed it or said something on its own (a shutdown or termination notice, a parameter change), so the
check here only polls the socket without waiting: silent means usable; anything to read falls back to
Django's ``SELECT 1``, which reads it and tells. A connection that broke in use is marked bad by psycopg
and closed as before.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base as postgresql
from psycopg import pq

from kabinet.core.sockets import socket_readable


class DatabaseWrapper(postgresql.DatabaseWrapper):  # type: ignore[misc]
    def is_usable(self) -> bool:
        connection: Any = self.connection
        if connection is None or connection.closed:
            return False
        pgconn = connection.pgconn
        if (
            pgconn.status == pq.ConnStatus.OK
            and pgconn.transaction_status == pq.TransactionStatus.IDLE
            and not socket_readable(pgconn.socket)
        ):
            return True
        return bool(super().is_usable())
