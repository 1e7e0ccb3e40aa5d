"""Languages: Vietnamese first, English from web/locales (a .po compiled in memory at start)."""

from __future__ import annotations

import gettext
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import HTTPConnection

DEFAULT_LOCALE = "vi"
LOCALES = ("vi", "en")
LANG_COOKIE = "lang"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def compile_po(path: Path) -> Translations:
    """Read a .po file and compile it to a .mo in memory (no build step on disk)."""
    with path.open("rb") as po:
        catalog = read_po(po)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def load_translations(locales_dir: Path = LOCALES_DIR) -> dict[str, gettext.NullTranslations]:
    """One translations object per locale; msgids are Vietnamese, so 'vi' needs none."""
    found: dict[str, gettext.NullTranslations] = {DEFAULT_LOCALE: NullTranslations()}
    for locale in LOCALES:
        path = locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        if locale != DEFAULT_LOCALE and path.exists():
            found[locale] = compile_po(path)
    return found


def requested_locale(conn: HTTPConnection) -> str | None:
    """The locale asked for in the query string (``?lang=en``), if it is one we have."""
    lang = conn.query_params.get("lang")
    return lang if lang in LOCALES else None


def locale_for(conn: HTTPConnection) -> str:
    """Query string first, then the cookie it set, then Vietnamese."""
    cookie = conn.cookies.get(LANG_COOKIE)
    return requested_locale(conn) or (cookie if cookie in LOCALES else DEFAULT_LOCALE)
