"""Translations: messages are written in Vietnamese (the default language); other locales come from Babel
catalogs read straight from the .po files, so nothing has to be compiled before the bot starts."""

from __future__ import annotations

import gettext
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_LOCALE = "vi"
LOCALES = ("vi", "en")
LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"


class I18n:
    """Holds one translations object per locale; `get(locale)` falls back to Vietnamese."""

    def __init__(self, locales_dir: Path = LOCALES_DIR) -> None:
        self._translations: dict[str, gettext.NullTranslations] = {DEFAULT_LOCALE: gettext.NullTranslations()}
        for locale in LOCALES:
            po = locales_dir / locale / "LC_MESSAGES" / "messages.po"
            if locale == DEFAULT_LOCALE or not po.exists():
                continue
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
            buf = BytesIO()
            write_mo(buf, catalog)
            buf.seek(0)
            self._translations[locale] = gettext.GNUTranslations(buf)

    def get(self, locale: str | None) -> gettext.NullTranslations:
        return self._translations.get(locale or DEFAULT_LOCALE, self._translations[DEFAULT_LOCALE])

    def gettext(self, locale: str | None, message: str) -> str:
        return self.get(locale).gettext(message)


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined; it is translated where it is shown."""
    return message
