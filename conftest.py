"""Suite-wide test configuration.

Under CI=true a skipped browser (e2e) or PostgreSQL test fails the run: CI must exercise both.
"""

from __future__ import annotations

import os

import pytest

_skipped_required: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Runs in the controller under pytest-xdist too; markers travel in report.keywords.
    if report.skipped and ("e2e" in report.keywords or "postgres" in report.keywords):
        _skipped_required.append(report.nodeid)


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


@pytest.fixture(autouse=True)
def _russian_by_default() -> object:
    # A test that switches the language (a request in Tatar, a language test) must not leak it into
    # the next test running in the same thread.
    from django.utils import translation

    translation.activate("ru")
    yield
    translation.deactivate()
