import pytest

from kabinet.core.phones import PhoneInputError, format_phone, normalize_phone


@pytest.mark.parametrize(
    "text",
    [
        "8 917 123-45-67",
        "+7 (917) 1234567",
        "79171234567",
        "9171234567",
        "+7 917 123 45 67",
        "8(917)123-45-67",
    ],
)
def test_normalize_phone_usual_forms(text: str) -> None:
    assert normalize_phone(text) == "+79171234567"


@pytest.mark.parametrize(
    "text", ["", "abc", "12345", "+1 202 555 0100", "8 000 000-00-00", "+7 917 123-45-6", "917-ab"]
)
def test_normalize_phone_refuses_invalid(text: str) -> None:
    with pytest.raises(PhoneInputError):
        normalize_phone(text)


def test_format_phone() -> None:
    assert format_phone("+79171234567") == "+7 917 123-45-67"
