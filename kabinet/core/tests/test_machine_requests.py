import io
import json

import pytest

from config.wsgi import application


def _call(path: str, *, method: str = "GET", body: bytes = b"") -> tuple[str, dict[str, str], bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
    }
    captured: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        captured["status"], captured["headers"] = status, dict(headers)

    result = application(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return str(captured["status"]), captured["headers"], content  # type: ignore[return-value]


@pytest.mark.django_db(transaction=True)
def test_an_acquirer_notification_is_handled_without_the_browser_middleware() -> None:
    body = json.dumps(
        {"type": "notification", "event": "payment.succeeded", "object": {"id": "not-ours"}}
    ).encode()

    status, headers, content = _call("/payments/notifications/yookassa/", method="POST", body=body)

    assert status.startswith("200")
    assert json.loads(content) == {"status": "ignored"}
    # the browser stack's marks are absent: no clickjacking header, no language negotiation
    assert "X-Frame-Options" not in headers
    assert "Content-Language" not in headers


@pytest.mark.django_db(transaction=True)
def test_pages_still_go_through_the_whole_middleware() -> None:
    status, headers, _content = _call("/pay/")

    assert status.startswith("200")
    assert headers.get("X-Frame-Options") == "DENY"
    assert headers.get("Content-Language") == "ru"


def test_machine_requests_run_in_the_operators_language_whatever_the_thread_had() -> None:
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.utils import translation

    from kabinet.core.machine_requests import OperatorLanguageMiddleware

    seen = []

    def view(request):
        seen.append(translation.get_language())
        return HttpResponse()

    translation.activate("tt")  # what the thread's last browser request left behind
    OperatorLanguageMiddleware(view)(RequestFactory().post("/payments/notifications/yookassa/"))

    assert seen == ["ru"]
    assert translation.get_language() == "tt"
