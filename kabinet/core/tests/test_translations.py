"""The committed translation catalogs (kabinet/locale/{en,tt}) are complete and compiled."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "locale"
LANGUAGES = ["en", "tt"]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]*\}")


def _po(lang: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))


def _catalog(
    entries: list[polib.POEntry] | polib.POFile | polib.MOFile,
) -> dict[tuple[str, str, str], object]:
    catalog: dict[tuple[str, str, str], object] = {}
    for entry in entries:
        if entry.obsolete:
            continue
        key = (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")
        catalog[key] = dict(sorted(entry.msgstr_plural.items())) if entry.msgid_plural else entry.msgstr
    return catalog


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(lang: str) -> None:
    # given
    po = _po(lang)
    # when
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    # then
    assert len(po) > 1000
    assert untranslated == []
    assert fuzzy == []
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_the_placeholders(lang: str) -> None:
    # given
    po = _po(lang)
    # when
    broken = []
    for entry in po.translated_entries():
        source = set(PLACEHOLDER.findall(entry.msgid + (entry.msgid_plural or "")))
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            used = set(PLACEHOLDER.findall(text))
            # a plural form may leave out the number; it may never invent a name
            if used - source or (not entry.msgid_plural and used != source):
                broken.append((entry.msgid, text))
    # then
    assert broken == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_mo_matches_the_po(lang: str) -> None:
    # given
    po = _po(lang)
    mo = polib.mofile(str(LOCALE / lang / "LC_MESSAGES" / "django.mo"))
    # when: compile the .po in memory and read it back the same way as the committed .mo
    fresh = polib.mofile(po.to_binary())
    # then
    expected = _catalog(fresh)
    assert len(expected) == len(po.translated_entries())
    assert _catalog(mo) == expected
    assert mo.metadata["Plural-Forms"] == po.metadata["Plural-Forms"]


def test_django_serves_the_tatar_and_english_catalogs() -> None:
    # when
    with translation.override("tt"):
        tatar = (
            translation.gettext("Личный кабинет"),
            translation.gettext("Войти"),
            translation.gettext("Выйти"),
        )
    with translation.override("en"):
        english = translation.gettext("Мои счета")
    with translation.override("ru"):
        russian = translation.gettext("Мои счета")
    # then
    assert tatar == ("Шәхси кабинет", "Керергә", "Чыгарга")
    assert english == "My accounts"
    assert russian == "Мои счета"
