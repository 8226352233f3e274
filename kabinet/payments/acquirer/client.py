"""A client for the YooKassa API v3 protocol, spoken over HTTP/1.1 keep-alive connections.

- Basic auth ``shopId:secretKey``; every POST carries an ``Idempotence-Key`` so a retry after a timeout
  never creates a second payment, capture or refund.
- Two-stage payments: created with ``capture: false``; after the payer confirms, the payment is
  ``waiting_for_capture`` and we either capture it or cancel it (the operator's card rules).
- Never called inside a database transaction (it can take seconds); services call it before or after.

The base URL and credentials come from settings (ACQUIRER_*); with no variables set, the sandbox
acquirer on this site. Each thread keeps its own connection alive between calls
(``kabinet.payments.acquirer.keepalive``); every notification makes two calls.
A ``requests`` session is used instead when the caller passes one or a test mounts a transport adapter
for the URL (``TRANSPORT_ADAPTERS``); the sandbox's notification deliveries use ``http_session``.
"""

from __future__ import annotations

import base64
import http.client
import json as jsonlib
import threading
from typing import Any

import requests
from django.conf import settings

from kabinet.core.money import kopecks_to_decimal
from kabinet.payments.acquirer.interface import (
    AcquirerError,
    AcquirerPayment,
    AcquirerRefund,
    AcquirerUnavailable,
)
from kabinet.payments.acquirer.keepalive import KeepAliveConnections

_local = threading.local()

# Transport adapters mounted on every session this module creates, by URL prefix. Production has none;
# tests mount one that routes the sandbox's URLs to Django's test client (a transport, not our code).
TRANSPORT_ADAPTERS: dict[str, requests.adapters.BaseAdapter] = {}


def http_session() -> requests.Session:
    """The calling thread's keep-alive session (requests.Session is not thread-safe)."""
    session: requests.Session | None = getattr(_local, "session", None)
    adapters_version = tuple((prefix, id(adapter)) for prefix, adapter in TRANSPORT_ADAPTERS.items())
    if session is None or getattr(_local, "adapters_version", None) != adapters_version:
        session = requests.Session()
        for prefix, adapter in TRANSPORT_ADAPTERS.items():
            session.mount(prefix, adapter)
        _local.session = session
        _local.adapters_version = adapters_version
    return session


# Keep-alive connections to the acquirer, each thread its own; no automatic retries: a POST is
# retried only by our code, with its Idempotence-Key.
_pool = KeepAliveConnections()


def _adapter_mounted(url: str) -> bool:
    return any(url.startswith(prefix) for prefix in TRANSPORT_ADAPTERS)


def amount_json(kopecks: int) -> dict[str, str]:
    return {"value": f"{kopecks_to_decimal(kopecks):.2f}", "currency": "RUB"}


class AcquirerClient:
    def __init__(
        self,
        *,
        base_url: str,
        shop_id: str,
        secret_key: str,
        timeout: tuple[float, float] = (3.0, 15.0),
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = (shop_id, secret_key)
        self.timeout = timeout
        self._session = session

    @property
    def session(self) -> requests.Session:
        return self._session or http_session()

    # --- transport ------------------------------------------------------------------------------
    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        """One HTTP exchange: (status, body). Raises AcquirerUnavailable when there is no answer."""
        if self._session is not None or _adapter_mounted(url):
            try:
                response = self.session.request(
                    method, url, data=body, headers=headers, auth=self.auth, timeout=self.timeout
                )
            except requests.RequestException as exc:
                raise AcquirerUnavailable(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc
            return response.status_code, response.content
        credentials = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
        try:
            return _pool.request(
                method,
                url,
                body=body,
                headers={**headers, "Authorization": f"Basic {credentials}"},
                timeout=self.timeout,
            )
        except (OSError, http.client.HTTPException) as exc:
            raise AcquirerUnavailable(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        idempotence_key: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if idempotence_key is not None:
            headers["Idempotence-Key"] = idempotence_key[:64]
        body = None if json is None else jsonlib.dumps(json).encode()
        status, content = self._send(method, f"{self.base_url}{path}", body, headers)
        if status >= 500 or status == 429:
            raise AcquirerUnavailable(f"{method} {path}: HTTP {status}", status=status)
        try:
            data = jsonlib.loads(content)
        except ValueError as exc:
            raise AcquirerUnavailable(f"{method} {path}: not JSON (HTTP {status})") from exc
        if status >= 400:
            if not isinstance(data, dict):
                data = {}
            raise AcquirerError(
                str(data.get("description") or f"HTTP {status}"),
                code=str(data.get("code", "")),
                status=status,
            )
        if not isinstance(data, dict):
            raise AcquirerError(f"{method} {path}: unexpected body")
        return data

    # --- payments -------------------------------------------------------------------------------
    def payment_create(
        self,
        *,
        amount_kopecks: int,
        return_url: str,
        description: str,
        metadata: dict[str, str],
        idempotence_key: str,
        receipt_email: str = "",
        payment_method_data: dict[str, Any] | None = None,
        save_payment_method: bool = False,
        payment_method_id: str = "",
    ) -> AcquirerPayment:
        body: dict[str, Any] = {
            "amount": amount_json(amount_kopecks),
            "capture": False,
            "confirmation": {"type": "redirect", "return_url": return_url},
            "description": description[:128],
            "metadata": metadata,
        }
        # E-wallets and saved methods (autopay, linked wallets; helper PAY-B).
        if payment_method_id:
            body["payment_method_id"] = payment_method_id
            del body["confirmation"]  # a saved method is charged without the payer
        elif payment_method_data:
            body["payment_method_data"] = payment_method_data
        if save_payment_method:
            body["save_payment_method"] = True
        if receipt_email:
            body["receipt"] = {"customer": {"email": receipt_email}}
        return AcquirerPayment.from_json(
            self._request("POST", "/payments", json=body, idempotence_key=idempotence_key)
        )

    def payment_get(self, *, payment_id: str) -> AcquirerPayment:
        return AcquirerPayment.from_json(self._request("GET", f"/payments/{payment_id}"))

    def payment_capture(
        self, *, payment_id: str, amount_kopecks: int, idempotence_key: str
    ) -> AcquirerPayment:
        return AcquirerPayment.from_json(
            self._request(
                "POST",
                f"/payments/{payment_id}/capture",
                json={"amount": amount_json(amount_kopecks)},
                idempotence_key=idempotence_key,
            )
        )

    def payment_cancel(self, *, payment_id: str, idempotence_key: str) -> AcquirerPayment:
        return AcquirerPayment.from_json(
            self._request("POST", f"/payments/{payment_id}/cancel", json={}, idempotence_key=idempotence_key)
        )

    # --- refunds --------------------------------------------------------------------------------
    def refund_create(
        self, *, payment_id: str, amount_kopecks: int, description: str, idempotence_key: str
    ) -> AcquirerRefund:
        body = {
            "payment_id": payment_id,
            "amount": amount_json(amount_kopecks),
            "description": description[:250],
        }
        return AcquirerRefund.from_json(
            self._request("POST", "/refunds", json=body, idempotence_key=idempotence_key)
        )

    def refund_get(self, *, refund_id: str) -> AcquirerRefund:
        return AcquirerRefund.from_json(self._request("GET", f"/refunds/{refund_id}"))


def acquirer_client() -> AcquirerClient:
    """The client configured from settings (read on every call so tests can override settings)."""
    return AcquirerClient(
        base_url=settings.ACQUIRER_BASE_URL,
        shop_id=settings.ACQUIRER_SHOP_ID,
        secret_key=settings.ACQUIRER_SECRET_KEY,
        timeout=(settings.ACQUIRER_CONNECT_TIMEOUT, settings.ACQUIRER_READ_TIMEOUT),
    )


__all__ = ["AcquirerClient", "AcquirerError", "AcquirerUnavailable", "acquirer_client", "http_session"]
