import pytest


@pytest.mark.django_db
def test_interface_is_russian_whatever_the_browser_language(client) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "ru"
    assert "Личный кабинет абонента Летай" in response.content.decode()


@pytest.mark.django_db
def test_a_chosen_language_wins(client, settings) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response["Content-Language"] == "en"
