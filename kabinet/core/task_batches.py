"""Handing many small jobs to Celery as a few batches.

Publishing one Celery task costs the web process about a millisecond of CPU (building the message,
kombu's producer pool, the connection's retry wrapper), whatever the task carries. A payment
notification publishes one (its receipt); at a hundred notifications a second that is a tenth of the
server's CPU. ``TaskBatcher`` collects the items submitted by a process's threads for a short while
(``linger_seconds``, like a Kafka producer's linger) in a background thread and publishes one task
per batch. A receipt goes out a fraction of a second later; the process publishes a fraction of
the messages.

With ``CELERY_TASK_ALWAYS_EAGER`` (tests, ``make run``) there is no broker and no delay: each item is
published (run) at once in the caller's thread, as a direct ``delay`` would.

Items still waiting when the process exits are published from an ``atexit`` hook. An item is lost
only if the process is killed before its batch is published, the same window a direct ``delay``
after commit has.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings

T = TypeVar("T")

logger = logging.getLogger(__name__)


class TaskBatcher(Generic[T]):
    def __init__(
        self, publish: Callable[[list[T]], object], *, linger_seconds: float = 0.1, max_batch: int = 500
    ) -> None:
        self._publish = publish
        self._linger = linger_seconds
        self._max = max_batch
        self._queue: queue.SimpleQueue[T] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid = 0  # the process whose thread runs; a forked worker starts its own

    def submit(self, item: T) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            self._publish([item])
            return
        self._queue.put(item)
        if self._pid != os.getpid():
            self._start()

    def submit_many(self, items: list[T]) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            if items:
                self._publish(list(items))
            return
        for item in items:
            self._queue.put(item)
        if self._pid != os.getpid():
            self._start()

    def flush(self) -> None:
        """Publish what is waiting now, in the caller's thread (at exit; tests)."""
        batch = self._drain([])
        if batch:
            self._publish_logged(batch)

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            threading.Thread(target=self._run, name="task-batcher", daemon=True).start()
            atexit.register(self.flush)

    def _drain(self, batch: list[T]) -> list[T]:
        while len(batch) < self._max:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + self._linger
            while len(batch) < self._max:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self._queue.get(timeout=remaining))
                except queue.Empty:
                    break
            self._publish_logged(self._drain(batch))

    def _publish_logged(self, batch: list[T]) -> None:
        try:
            self._publish(batch)
        except Exception:  # the broker is down: say so; the thread must live on for the next batch
            logger.exception("could not publish a batch of %d items", len(batch))
