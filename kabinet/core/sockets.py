"""A look at a socket without waiting."""

from __future__ import annotations

import select


def socket_readable(fd: int) -> bool:
    """Whether the socket has something to read right now (data, or the peer's close). An idle
    keep-alive connection has nothing: anything there means the peer closed it or spoke on its own."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
