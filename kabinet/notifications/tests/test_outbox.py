import json
from io import StringIO

import pytest
from django.core.mail import send_mail
from django.core.management import call_command

from kabinet.notifications.sms import sms_send


@pytest.mark.django_db
def test_outbox_command_prints_json_lines_newest_first() -> None:
    # given
    send_mail("Подтверждение", "Ссылка: http://127.0.0.1:8000/x", None, ["a@example.com"])
    sms_send(to="+79171234567", text="Код 123456")
    out = StringIO()
    # when
    call_command("outbox", "--json", "--last", "2", stdout=out)
    # then
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["channel"] for r in rows] == ["sms", "email"]
    assert rows[0]["to"] == "+79171234567"
    assert rows[0]["body"] == "Код 123456"
    assert rows[1]["subject"] == "Подтверждение"
    assert set(rows[1]) == {"channel", "to", "subject", "body", "sent_at"}


@pytest.mark.django_db
def test_outbox_page_lists_messages_with_clickable_links(client) -> None:
    send_mail("Подтверждение", "Ссылка: http://127.0.0.1:8000/confirm/abc", None, ["a@example.com"])
    response = client.get("/dev/outbox/")
    assert response.status_code == 200
    assert b'href="http://127.0.0.1:8000/confirm/abc"' in response.content


@pytest.mark.django_db
def test_outbox_page_refused_in_production(client, settings) -> None:
    settings.DEV_OUTBOX = False
    assert client.get("/dev/outbox/").status_code == 404
