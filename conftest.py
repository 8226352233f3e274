"""Suite-wide test configuration.

Under CI=true a skipped browser (e2e) or PostgreSQL test fails the run: CI must exercise both.
"""

from __future__ import annotations

import os

import pytest

_skipped_required: list[str] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and (item.get_closest_marker("e2e") or item.get_closest_marker("postgres")):
        _skipped_required.append(item.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI", "").lower() == "true" and _skipped_required:
        print("\nCI=true: these browser/PostgreSQL tests were skipped, which CI does not allow:")
        for nodeid in _skipped_required:
            print("  ", nodeid)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _media_root(settings: object, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _emails_to_dev_outbox(settings: object) -> None:
    # Django's test setup swaps in the locmem email backend; the flows (and the e2e journeys) read
    # codes and links from the dev outbox like a person trying the demo does.
    settings.EMAIL_BACKEND = "kabinet.notifications.outbox.OutboxEmailBackend"  # type: ignore[attr-defined]
