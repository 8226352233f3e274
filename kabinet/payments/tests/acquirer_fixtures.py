"""Test fixtures for card payments: the acquirer client talks HTTP to the sandbox acquirer through a
``requests`` transport adapter that hands each request to Django's test client (same process, same test
database transaction). Only the transport is replaced: the client, the sandbox's API, its hosted pages
and our notification endpoint all run for real.

Import the fixtures into a test module: ``from kabinet.payments.tests.acquirer_fixtures import *``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from django.utils import translation
from requests.structures import CaseInsensitiveDict

from kabinet.notifications.models import OutboxMessage
from kabinet.payments.acquirer import client as acquirer_client_module
from kabinet.payments.models import Payment

BASE = "http://testserver"


class DjangoClientAdapter(requests.adapters.BaseAdapter):
    """requests -> django.test.Client. ``fail_next`` makes the next N requests time out (a flaky network)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_next = 0
        self.fail_paths: tuple[str, ...] = ()
        self.calls: list[tuple[str, str]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = urlsplit(request.url or "")
        path = url.path + (f"?{url.query}" if url.query else "")
        self.calls.append((request.method or "GET", url.path))
        if self.fail_next and (not self.fail_paths or any(p in url.path for p in self.fail_paths)):
            self.fail_next -= 1
            raise requests.exceptions.ReadTimeout(f"simulated timeout: {request.method} {url.path}")
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("content-length", "content-type", "host")
        }
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        # A fresh client per request: the adapter may be used from several threads at once. The
        # in-process request activates its own language; a real HTTP call leaves the caller's alone.
        caller_language = translation.get_language()
        try:
            response = self._client_request(request, path, body, headers)
        finally:
            if caller_language:
                translation.activate(caller_language)
            else:
                translation.deactivate()
        return self._to_requests_response(request, response)

    def _client_request(self, request: requests.PreparedRequest, path: str, body: bytes, headers: Any) -> Any:
        return Client().generic(
            request.method or "GET",
            path,
            data=body,
            content_type=request.headers.get("Content-Type", "application/octet-stream"),
            headers=headers,
        )

    @staticmethod
    def _to_requests_response(request: requests.PreparedRequest, response: Any) -> requests.Response:
        result = requests.Response()
        result.status_code = response.status_code
        result._content = response.content
        result.headers = CaseInsensitiveDict(dict(response.items()))
        result.url = request.url or ""
        result.request = request
        result.encoding = "utf-8"
        return result

    def close(self) -> None:
        pass


@pytest.fixture
def acquirer(settings: Any) -> Iterator[DjangoClientAdapter]:
    """The sandbox acquirer reachable over the transport, notifications sent back to our endpoint."""
    settings.ACQUIRER_BASE_URL = f"{BASE}/sandbox-acquirer/api/v3"
    settings.SANDBOX_ACQUIRER_NOTIFICATION_URL = f"{BASE}/payments/notifications/yookassa/"
    settings.SANDBOX_ACQUIRER_NOTIFICATIONS = "send"
    settings.SITE_URL = BASE
    adapter = DjangoClientAdapter()
    acquirer_client_module.TRANSPORT_ADAPTERS[f"{BASE}/"] = adapter
    yield adapter
    acquirer_client_module.TRANSPORT_ADAPTERS.pop(f"{BASE}/", None)


def sms_code_latest() -> str:
    message = OutboxMessage.objects.filter(channel=OutboxMessage.Channel.SMS).order_by("-id").first()
    assert message is not None, "no SMS in the outbox"
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None
    return match.group(1)


def payer_confirms(
    payment: Payment,
    *,
    card: str = "2200 0000 0000 0004",
    expiry: str = "12/30",
    code: str | None = None,
    capture_callbacks: Any = None,
) -> Any:
    """A payer on the sandbox's card page: card, then the SMS code from the outbox. Returns the final
    redirect response. Pass ``django_capture_on_commit_callbacks`` to deliver notifications."""
    browser = Client()
    checkout_path = urlsplit(payment.confirmation_url).path
    response = browser.post(checkout_path, {"number": card, "expiry": expiry, "cvc": "123", "holder": "IVAN"})
    assert response.status_code == 302, response.content[:500]
    if "/3ds/" not in response["Location"]:
        return response
    the_code = code if code is not None else sms_code_latest()
    if capture_callbacks is not None:
        with capture_callbacks(execute=True):
            return browser.post(response["Location"], {"code": the_code})
    return browser.post(response["Location"], {"code": the_code})
