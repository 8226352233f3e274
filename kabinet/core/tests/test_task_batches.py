import threading
import time

from kabinet.core.task_batches import TaskBatcher


def _wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_with_eager_celery_each_item_is_published_at_once_in_the_callers_thread(settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    published: list[tuple[list[int], str]] = []
    batcher: TaskBatcher[int] = TaskBatcher(
        lambda batch: published.append((batch, threading.current_thread().name))
    )

    batcher.submit(1)
    batcher.submit(2)

    assert published == [([1], threading.current_thread().name), ([2], threading.current_thread().name)]


def test_items_from_many_threads_go_out_in_a_few_batches_each_once(settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    batches: list[list[int]] = []
    batcher = TaskBatcher(batches.append, linger_seconds=0.2)

    def submit(start: int) -> None:
        for i in range(start, start + 20):
            batcher.submit(i)

    threads = [threading.Thread(target=submit, args=(n * 20,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _wait_for(lambda: sum(len(b) for b in batches) == 100)

    assert sorted(i for b in batches for i in b) == list(range(100))
    assert len(batches) < 10  # lingering collected them: not one publish per item


def test_a_failing_publish_is_logged_and_later_batches_still_go(settings, caplog) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    batches: list[list[int]] = []

    def publish(batch: list[int]) -> None:
        if 1 in batch:
            raise ConnectionError("broker down")
        batches.append(batch)

    batcher = TaskBatcher(publish, linger_seconds=0.01)
    batcher.submit(1)
    _wait_for(lambda: "could not publish" in caplog.text)
    batcher.submit(2)
    _wait_for(lambda: batches == [[2]])

    assert batches == [[2]]
    assert "could not publish a batch of 1 items" in caplog.text


def test_flush_publishes_what_waits_in_the_callers_thread(settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    batches: list[list[int]] = []
    batcher = TaskBatcher(batches.append, linger_seconds=0.01)
    batcher._queue.put(7)  # waiting, no thread yet (as at exit after the thread died with the process)

    batcher.flush()

    assert batches == [[7]]


def test_submit_many_queues_every_item_and_publishes_them_together(settings) -> None:
    # eager: the whole list at once, in the caller's thread; nothing for an empty list
    settings.CELERY_TASK_ALWAYS_EAGER = True
    published: list[list[int]] = []
    TaskBatcher(published.append).submit_many([1, 2, 3])
    TaskBatcher(published.append).submit_many([])
    assert published == [[1, 2, 3]]
    # with a broker: queued, then one batch from the background thread
    settings.CELERY_TASK_ALWAYS_EAGER = False
    batches: list[list[int]] = []
    batcher = TaskBatcher(batches.append, linger_seconds=0.05)
    batcher.submit_many([4, 5, 6])
    _wait_for(lambda: sum(len(b) for b in batches) == 3)
    assert batches == [[4, 5, 6]]
