import queue

import pytest
from django.conf import settings

from kabinet.notifications.smpp import QUEUE_KEY, SmppConfig, SmppSender, smpp_enqueue, smpp_run_sender
from kabinet.notifications.smsc_standin import ReceivedSms, smsc_standin_start


@pytest.fixture
def smsc():
    received: list[ReceivedSms] = []
    server, port = smsc_standin_start(on_message=received.append, system_id="kabinet", password="secret")
    yield port, received
    server.shutdown()
    server.server_close()


def config(port: int, password: str = "secret") -> SmppConfig:
    return SmppConfig(
        host="127.0.0.1", port=port, system_id="kabinet", password=password, source_addr="Letai"
    )


def test_sender_submits_long_cyrillic_sms_in_parts_over_one_bind(smsc) -> None:
    # given
    port, received = smsc
    sender = SmppSender(config(port))
    long_text = "Ваш код для входа в личный кабинет Летай: 123456. Никому не сообщайте его. " * 2
    # when
    first_ids = sender.send(to="+79171234567", text=long_text)
    second_ids = sender.send(to="+79170000001", text="Код 654321")
    sender.close()
    # then
    assert len(first_ids) == 3  # 150 characters of UCS-2: three concatenated parts
    assert len(second_ids) == 1
    assert [(m.to, m.source, m.text) for m in received] == [
        ("+79171234567", "Letai", long_text),
        ("+79170000001", "Letai", "Код 654321"),
    ]


def test_bind_with_a_wrong_password_fails(smsc) -> None:
    port, received = smsc
    with pytest.raises(Exception, match="Invalid Password"):
        SmppSender(config(port, password="wrong")).connect()
    assert received == []


def test_sender_loop_puts_a_message_back_when_the_smsc_is_down() -> None:
    # given: nothing listens on the port
    sender = SmppSender(SmppConfig("127.0.0.1", 1, "kabinet", "secret", "Letai", timeout_s=1))
    inbox: queue.Queue = queue.Queue()
    inbox.put({"to": "+79171234567", "text": "Код 1"})
    returned: list[dict] = []
    calls = {"n": 0}

    def pop(timeout: float):
        calls["n"] += 1
        return None if inbox.empty() else inbox.get()

    # when
    sent = smpp_run_sender(
        sender=sender, pop=pop, push_back=returned.append, should_stop=lambda: calls["n"] >= 1
    )
    # then
    assert sent == 0
    assert returned == [{"to": "+79171234567", "text": "Код 1"}]


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (runs in the PostgreSQL + Redis CI run)")
def test_enqueued_sms_is_delivered_by_the_sender_process_loop(smsc) -> None:
    import redis

    from kabinet.notifications.smpp import redis_queue_functions

    port, received = smsc
    redis.Redis.from_url(settings.REDIS_URL).delete(QUEUE_KEY)
    smpp_enqueue(to="+79171234567", text="Код 777777")
    pop, push_back = redis_queue_functions(settings.REDIS_URL)
    counter = {"n": 0}

    def counting_pop(timeout: float):
        message = pop(timeout)
        counter["n"] += message is not None
        return message

    sent = smpp_run_sender(
        sender=SmppSender(config(port)),
        pop=counting_pop,
        push_back=push_back,
        should_stop=lambda: counter["n"] >= 1,
    )
    assert sent == 1
    assert [(m.to, m.text) for m in received] == [("+79171234567", "Код 777777")]
