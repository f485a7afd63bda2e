"""The interface's languages: one gettext catalog per language in ``scanner/web/i18n/<lang>/LC_MESSAGES/
messages.po``, read directly with Babel (no compile step, so a fresh ``pip install -e .`` works).
Message ids are the English text; a third language is one more ``.po`` file."""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Callable
from importlib import resources
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT = "th"
NAMES = {"th": "ไทย", "en": "English"}

Translate = Callable[..., str]


@functools.cache
def languages() -> tuple[str, ...]:
    """The languages with a catalog, Thai first."""
    root = resources.files("scanner.web") / "i18n"
    found = sorted(p.name for p in root.iterdir() if (p / "LC_MESSAGES" / "messages.po").is_file())
    return tuple(sorted(found, key=lambda lang: (lang != DEFAULT, lang)))


@functools.cache
def catalog(lang: str) -> gettext.NullTranslations:
    if lang not in languages():
        return gettext.NullTranslations()
    po = resources.files("scanner.web") / "i18n" / lang / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        cat = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, cat)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def translator(lang: str) -> Translate:
    """``_("Signals")`` in ``lang``; keyword arguments fill ``%(name)s`` placeholders after translating."""
    cat = catalog(lang)

    def _(message: str, **values: Any) -> str:
        text = cat.gettext(message)
        return text % values if values else text

    return _


def pick_language(cookie: str | None, accept: str | None) -> str:
    """The ``lang`` cookie if it names a catalog, else the first known language the browser accepts, else Thai."""
    langs = languages()
    if cookie in langs:
        return str(cookie)
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in langs:
            return code
    return DEFAULT
