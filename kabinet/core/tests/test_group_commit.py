"""GroupCommit: concurrent callers' items processed together, each caller getting its own result."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import transaction

from kabinet.core.group_commit import GroupCommit


class Recorder:
    """A ``process`` that records its batches; the first batch can be held until released."""

    def __init__(self, *, hold_first: bool = False, bad: Any = None) -> None:
        self.batches: list[list[Any]] = []
        self.threads: list[str] = []
        self.lock = threading.Lock()
        self.hold = threading.Event()
        self.held = threading.Event()
        self.hold_first = hold_first
        self.bad = bad

    def __call__(self, items: list[Any]) -> list[Any]:
        with self.lock:
            first = not self.batches
            self.batches.append(list(items))
            self.threads.append(threading.current_thread().name)
        if first and self.hold_first:
            self.held.set()
            self.hold.wait(10)
        if self.bad in items:
            raise ValueError(f"bad item {self.bad}")
        return [item * 10 for item in items]


def _run_in_threads(group: GroupCommit[int, int], items: list[int]) -> dict[int, Any]:
    results: dict[int, Any] = {}
    lock = threading.Lock()

    def call(item: int) -> None:
        try:
            outcome: Any = group.run(item)
        except Exception as exc:
            outcome = exc
        with lock:
            results[item] = outcome

    threads = [threading.Thread(target=call, args=(item,), name=f"caller-{item}") for item in items]
    for t in threads:
        t.start()
        time.sleep(0.01)  # queued in this order
    return {"threads": threads, "results": results}  # type: ignore[dict-item]


def _join(started: dict[Any, Any]) -> dict[int, Any]:
    for t in started["threads"]:
        t.join(10)
    return started["results"]  # type: ignore[no-any-return]


def test_a_lone_item_runs_at_once_in_the_callers_thread() -> None:
    process = Recorder()
    group: GroupCommit[int, int] = GroupCommit(process)
    assert group.run(3) == 30
    assert process.batches == [[3]]
    assert process.threads == [threading.current_thread().name]


def test_items_queued_while_a_batch_runs_go_together_in_the_next_one() -> None:
    # given: a first caller whose batch is still running
    process = Recorder(hold_first=True)
    group: GroupCommit[int, int] = GroupCommit(process)
    first = _run_in_threads(group, [1])
    assert process.held.wait(5)
    # when: four more callers arrive meanwhile, then the first batch ends
    others = _run_in_threads(group, [2, 3, 4, 5])
    time.sleep(0.05)
    process.hold.set()
    results = {**_join(first), **_join(others)}
    # then: every caller has its own result, every item ran exactly once, the four in one batch
    assert results == {1: 10, 2: 20, 3: 30, 4: 40, 5: 50}
    assert process.batches == [[1], [2, 3, 4, 5]]
    # the second batch was led by the oldest waiting caller, in its own thread
    assert process.threads == ["caller-1", "caller-2"]


def test_a_batch_holds_at_most_max_batch_items() -> None:
    process = Recorder(hold_first=True)
    group: GroupCommit[int, int] = GroupCommit(process, max_batch=2)
    first = _run_in_threads(group, [1])
    assert process.held.wait(5)
    others = _run_in_threads(group, [2, 3, 4, 5, 6])
    time.sleep(0.05)
    process.hold.set()
    results = {**_join(first), **_join(others)}
    assert results == {n: n * 10 for n in range(1, 7)}
    assert process.batches == [[1], [2, 3], [4, 5], [6]]


def test_a_failing_batch_runs_again_item_by_item_and_only_the_bad_item_fails() -> None:
    # given: a batch of three in which item 3 makes the processing fail
    process = Recorder(hold_first=True, bad=3)
    group: GroupCommit[int, int] = GroupCommit(process)
    first = _run_in_threads(group, [1])
    assert process.held.wait(5)
    others = _run_in_threads(group, [2, 3, 4])
    time.sleep(0.05)
    process.hold.set()
    results = {**_join(first), **_join(others)}
    # then: the batch failed, each item ran again alone, and only item 3's caller got the error
    assert results[1] == 10 and results[2] == 20 and results[4] == 40
    assert isinstance(results[3], ValueError)
    assert process.batches == [[1], [2, 3, 4], [2], [3], [4]]


def test_a_lone_failing_item_gets_its_error_and_the_next_caller_still_runs() -> None:
    process = Recorder(bad=7)
    group: GroupCommit[int, int] = GroupCommit(process)
    with pytest.raises(ValueError, match="bad item 7"):
        group.run(7)
    assert group.run(8) == 80  # the lead was given back


@pytest.mark.django_db
def test_inside_a_transaction_the_item_runs_in_it_and_never_waits_for_others() -> None:
    # given: a batch held in another thread
    process = Recorder(hold_first=True)
    group: GroupCommit[int, int] = GroupCommit(process)
    first = _run_in_threads(group, [1])
    assert process.held.wait(5)
    # when: a caller inside a transaction runs an item
    with transaction.atomic():
        result = group.run(2)
    process.hold.set()
    _join(first)
    # then: it ran at once, in its own thread, alone
    assert result == 20
    assert [2] in process.batches
    assert process.threads[process.batches.index([2])] == threading.current_thread().name
