from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.test import Client

from kabinet.identity.models import PhoneCode, User
from kabinet.identity.tests.factories import PhoneUserFactory
from kabinet.identity.tests.helpers import last_code, sms_to
from kabinet.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db

SECRET = "test-ussd-secret"


@pytest.fixture(autouse=True)
def _secret(settings) -> None:  # type: ignore[no-untyped-def]
    settings.USSD_SHARED_SECRET = SECRET


def _sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(client: Client, payload: dict[str, str], signature: str | None = "auto"):
    body = json.dumps(payload).encode()
    headers = {}
    if signature == "auto":
        headers["X-Signature"] = _sign(body)
    elif signature is not None:
        headers["X-Signature"] = signature
    return client.post("/ussd/", body, content_type="application/json", headers=headers)


def test_ussd_from_a_new_number_sends_a_registration_code_that_opens_signup(client: Client) -> None:
    # when
    response = _post(client, {"msisdn": "79171234567", "text": "*118*1#"})
    browser = Client()
    verified = browser.post("/sms-code/", {"phone": "8 917 123-45-67", "code": last_code("+79171234567")})
    done = browser.post("/sms-code/password/", {"password1": "Letai2026x", "password2": "Letai2026x"})
    # then
    assert response.status_code == 200
    assert response.json() == {"text": "Код для регистрации в личном кабинете отправлен в SMS."}
    assert "Код регистрации в личном кабинете Летай" in sms_to("+79171234567")[-1]
    assert verified["Location"] == "/sms-code/password/"
    assert done.status_code == 302
    assert User.objects.get(phone="+79171234567").phone_verified is True


def test_ussd_from_a_registered_number_sends_a_login_code(client: Client) -> None:
    # given
    user = PhoneUserFactory.create(phone="+79171234567")
    # when
    response = _post(client, {"msisdn": "+79171234567", "text": "*118*1#"})
    browser = Client()
    login = browser.post("/sms-code/", {"phone": "+79171234567", "code": last_code("+79171234567")})
    # then
    assert response.json() == {"text": "Код для входа в личный кабинет отправлен в SMS."}
    assert login["Location"] == "/cabinet/"
    assert int(browser.session["_auth_user_id"]) == user.pk


def test_ussd_repeated_within_a_minute_answers_without_a_new_sms(client: Client) -> None:
    # given
    _post(client, {"msisdn": "79171234567", "text": ""})
    # when
    again = _post(client, {"msisdn": "79171234567", "text": ""})
    # then
    assert again.status_code == 200
    assert again.json()["text"].startswith("Новый код можно запросить через")
    assert len(sms_to("+79171234567")) == 1


@pytest.mark.parametrize(
    "signature",
    [None, "", "0" * 64, "not-hex", "wrong-secret"],
)
def test_ussd_with_a_bad_or_missing_signature_is_refused_and_sends_nothing(
    client: Client, signature: str | None
) -> None:
    # given
    body = json.dumps({"msisdn": "79171234567", "text": ""}).encode()
    if signature == "wrong-secret":
        signature = _sign(body, "another-secret")
    # when
    response = _post(client, {"msisdn": "79171234567", "text": ""}, signature=signature)
    # then
    assert response.status_code == 403
    assert OutboxMessage.objects.count() == 0
    assert PhoneCode.objects.count() == 0


def test_ussd_signature_covers_the_exact_body(client: Client) -> None:
    # given: signed for one number, the body then changed to another
    signed_body = json.dumps({"msisdn": "79171234567", "text": ""}).encode()
    tampered = json.dumps({"msisdn": "79177654321", "text": ""}).encode()
    # when
    response = client.post(
        "/ussd/", tampered, content_type="application/json", headers={"X-Signature": _sign(signed_body)}
    )
    # then
    assert response.status_code == 403
    assert OutboxMessage.objects.count() == 0


def test_ussd_is_refused_when_no_secret_is_configured(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    # given
    settings.USSD_SHARED_SECRET = ""
    body = json.dumps({"msisdn": "79171234567", "text": ""}).encode()
    # when
    response = client.post(
        "/ussd/", body, content_type="application/json", headers={"X-Signature": _sign(body, "")}
    )
    # then
    assert response.status_code == 403
    assert OutboxMessage.objects.count() == 0


def test_ussd_with_a_malformed_number_is_a_bad_request(client: Client) -> None:
    # when
    response = _post(client, {"msisdn": "12345", "text": ""})
    # then
    assert response.status_code == 400
    assert response.json()["error"] == "bad_msisdn"
    assert OutboxMessage.objects.count() == 0


def test_ussd_only_accepts_post(client: Client) -> None:
    # when
    response = client.get("/ussd/")
    # then
    assert response.status_code == 405
