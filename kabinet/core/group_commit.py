"""Group commit: the same short transaction of many concurrent requests, run once for all of them.

A server process's threads each handle one request. When many requests that end in the same short
write (crediting a card payment) arrive together, each would run the same handful of statements in a
transaction of its own, and most of the cost of a statement is the round trip and its fixed overhead,
not its rows. ``GroupCommit.run(item)`` queues the item. If no thread of the process is running a batch,
the caller leads: it takes everything queued at that moment (at most ``max_batch``) and runs
``process(items)`` once, on its own database connection, in one transaction of ``process``'s making;
then it hands each waiting caller its result and passes the lead to the oldest caller still waiting.
There is no lingering: a lone request runs at once, in a batch of one; a batch grows only with the
requests that arrived while the previous one ran.

If ``process`` raises, every item of that batch runs again alone, so a bad item fails only its own
caller. Inside a transaction (a caller's atomic block, the tests' transactions) the item runs at once
in the caller's thread and transaction: another thread's work must never join it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from django.db import connections

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    __slots__ = ("done", "error", "item", "lead", "result", "wake")

    def __init__(self, item: T) -> None:
        self.item = item
        self.wake = threading.Event()
        self.done = False
        self.lead = False
        self.result: R | None = None
        self.error: BaseException | None = None

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class GroupCommit(Generic[T, R]):
    def __init__(
        self, process: Callable[[list[T]], Sequence[R]], *, max_batch: int = 50, alias: str = "default"
    ) -> None:
        self._process = process
        self._max = max_batch
        self._alias = alias
        self._lock = threading.Lock()
        self._waiting: deque[_Slot[T, R]] = deque()
        self._busy = False

    def run(self, item: T) -> R:
        """``process([item, ...])``'s result for this item, computed in some caller's batch."""
        if connections[self._alias].in_atomic_block:
            return self._process([item])[0]
        slot: _Slot[T, R] = _Slot(item)
        with self._lock:
            self._waiting.append(slot)
            slot.lead = not self._busy
            self._busy = True
        if not slot.lead:
            slot.wake.wait()
        if not slot.done:  # leading: this slot heads the queue, so it is in the batch taken next
            self._lead()
        return slot.outcome()

    def _lead(self) -> None:
        with self._lock:
            batch = [self._waiting.popleft() for _ in range(min(self._max, len(self._waiting)))]
        try:
            self._run_batch(batch)
        finally:
            with self._lock:
                following = self._waiting[0] if self._waiting else None
                if following is None:
                    self._busy = False
                else:
                    following.lead = True
            for slot in batch:
                slot.done = True
                slot.wake.set()
            if following is not None:
                following.wake.set()

    def _run_batch(self, batch: list[_Slot[T, R]]) -> None:
        try:
            results = self._process([slot.item for slot in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
            for slot in batch:  # again one by one: only the bad item's caller gets the error
                try:
                    slot.result = self._process([slot.item])[0]
                except Exception as one_exc:
                    slot.error = one_exc
            return
        except BaseException as exc:  # the leader is being stopped: nobody waits for ever
            for slot in batch:
                slot.error = exc
            raise
        for slot, result in zip(batch, results, strict=True):
            slot.result = result
