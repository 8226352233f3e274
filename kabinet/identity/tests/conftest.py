from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_rate_limits() -> Iterator[None]:
    # allauth's rate limits live in the cache; every test starts with a clean slate.
    cache.clear()
    yield
    cache.clear()
