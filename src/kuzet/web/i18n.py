"""Message catalogs for the console: Kazakh (default), Russian, English.

Catalogs are gettext `.po` files read with Babel when the server starts (no compile step).
A page takes its language from `?lang=`, then the `kuzet_lang` cookie; a language chosen
while logged in is also kept on the account and set again at each login, so it follows the
person to any console. A message missing from a catalog falls back to the English text,
and a test fails if any is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po
from starlette.requests import HTTPConnection

LANGUAGES = ("kk", "ru", "en")
DEFAULT = "kk"
LOCALE_DIR = Path(__file__).parent / "locale"
NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
LANG_COOKIE = "kuzet_lang"


@cache
def catalog(lang: str) -> dict[str, str]:
    with (LOCALE_DIR / f"{lang}.po").open("rb") as f:
        po = read_po(f, locale=lang)
    return {str(m.id): str(m.string) for m in po if m.id and m.string}


def pick(requested: str | None) -> str:
    return requested if requested in LANGUAGES else DEFAULT


def language(conn: HTTPConnection) -> str:
    """The caller's console language: the `kuzet_lang` cookie, which the page's `?lang=`
    and each login (the account's language) set, else Kazakh. Pages, the API's refusals
    and the pictures it stamps read it alike, so a Kazakh page never gets English."""
    return pick(conn.cookies.get(LANG_COOKIE))


def translator(lang: str) -> Callable[[str], str]:
    messages = catalog(pick(lang))
    return lambda text: messages.get(text, text)
