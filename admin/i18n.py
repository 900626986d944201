"""Chinese and English UI: the locale choice and our own message catalogue.

The locale comes from ``?lang=zh|en`` (remembered in the session), else the
session's earlier choice, else the browser's Accept-Language, else Chinese.
Chinese is ``zh_Hans_CN`` because that is the folder Flask-Admin ships its
own translations in; our strings live in ``admin/translations`` (domain
``admin``), the chrome's in Flask-Admin's catalogue.
"""

from __future__ import annotations

from pathlib import Path

from flask import request, session
from flask_babel import gettext, lazy_gettext

__all__ = ["LANGUAGES", "TRANSLATIONS_DIR", "current_language", "gettext", "language_url", "lazy_gettext", "select_locale"]

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "admin"

#: short code (URL, session) -> Babel locale
LANGUAGES = {"zh": "zh_Hans_CN", "en": "en"}
DEFAULT_LANGUAGE = "zh"


def current_language() -> str:
    """'zh' or 'en' for this request (remembering a ``?lang=`` choice in the session)."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in LANGUAGES:
        return remembered
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    return LANGUAGES[current_language()]


def compile_catalog(po_path: Path, mo_path: Path | None = None) -> bytes:
    """Compile a .po file to .mo bytes (and write them when ``mo_path`` is given)."""
    from io import BytesIO

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    data = buffer.getvalue()
    if mo_path is not None:
        mo_path.write_bytes(data)
    return data


def language_url(code: str) -> str:
    """This page's URL with ``lang=code`` (other query arguments kept), for the language switch."""
    from urllib.parse import urlencode

    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", code)]
    return f"{request.path}?{urlencode(args)}"


if __name__ == "__main__":  # python -m admin.i18n: recompile the catalogues after editing a .po
    for po in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/*.po"):
        compile_catalog(po, po.with_suffix(".mo"))
        print(f"compiled {po.with_suffix('.mo')}")
