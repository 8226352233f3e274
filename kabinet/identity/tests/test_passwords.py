from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

pytestmark = pytest.mark.django_db


def _messages(password: str) -> list[str]:
    with translation.override("ru"):
        try:
            validate_password(password)
        except ValidationError as exc:
            return list(exc.messages)
    return []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Demo12345", []),
        ("Letai2026x", []),
        (
            "Ab1",
            ["Введённый пароль слишком короткий. Он должен состоять из как минимум 8 символов."],
        ),
        ("tatarstan2026", ["Добавьте в пароль: заглавную латинскую букву."]),
        ("TATARSTAN2026", ["Добавьте в пароль: строчную латинскую букву."]),
        ("Tatarstankazan", ["Добавьте в пароль: цифру."]),
        ("kazanletai", ["Добавьте в пароль: заглавную латинскую букву, цифру."]),
        ("Password1", ["Введённый пароль слишком широко распространён."]),
        ("Казань2026Ab", ["Пароль должен состоять из латинских букв и цифр, без русских букв."]),
    ],
)
def test_password_rules_say_in_russian_what_is_missing(password: str, expected: list[str]) -> None:
    # when
    messages = _messages(password)
    # then
    assert messages == expected


def test_signup_page_shows_the_password_rules_and_the_reasons(client: Client) -> None:
    # when
    response = client.post(
        "/accounts/signup/",
        {"email": "ivan@example.ru", "password1": "kazanletai", "password2": "kazanletai"},
    )
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "Не короче 8 символов: латинские заглавные и строчные буквы и хотя бы одна цифра." in page
    assert "<li>Добавьте в пароль: заглавную латинскую букву, цифру.</li>" in page
    assert 'aria-invalid="true"' in page
