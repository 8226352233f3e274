import pytest
from django.utils import translation

from kabinet.bonus.templatetags.bonus import points_word
from kabinet.portal.templatetags.portal import days_word


@pytest.mark.parametrize(
    ("n", "word"), [(1, "день"), (2, "дня"), (5, "дней"), (11, "дней"), (21, "день"), (22, "дня")]
)
def test_russian_days(n: int, word: str) -> None:
    assert days_word(n) == word


def test_other_languages_use_their_catalogs() -> None:
    with translation.override("en"):
        assert [days_word(1), days_word(5), points_word(1), points_word(3)] == [
            "day",
            "days",
            "point",
            "points",
        ]
    with translation.override("tt"):
        assert [days_word(1), days_word(5)] == ["көн", "көн"]
