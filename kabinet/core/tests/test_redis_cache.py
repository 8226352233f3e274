"""The Redis cache backend reuses one client object per connection pool and still works as a cache."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from kabinet.core.redis_cache import RedisCache

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="needs REDIS_URL (runs in the PostgreSQL + Redis CI run)"
)


def test_one_client_per_pool_and_values_round_trip() -> None:
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4()}"})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client() is client
    cache.set("answer", {"kopecks": 4200}, 30)
    assert cache.get("answer") == {"kopecks": 4200}
    assert cache.add("answer", "other", 30) is False
    cache.delete("answer")
    assert cache.get("answer") is None


def test_the_shared_client_serves_many_threads() -> None:
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4()}"})
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(50):
                cache.set(f"k{n}-{i}", i, 30)
                assert cache.get(f"k{n}-{i}") == i
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
