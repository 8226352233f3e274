from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_rate_limits() -> Iterator[None]:
    # Logins here go through allauth, whose rate limits live in the cache: start each test clean.
    cache.clear()
    yield
    cache.clear()
