"""Jinja2 rendering: one autoescaping environment per locale, with the translations installed."""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from web.flash import Notice
from web.forms import FieldError
from web.i18n import LOCALES, locale_for
from web.labels import (
    ACTION_LABELS,
    ASSIGNMENT_LABELS,
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    LEVEL_LABELS,
    RATING_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    TIMELINE_LABELS,
    label,
)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
SWITCH_LABELS = {"vi": "Tiếng Việt", "en": "English"}


def local_datetime(value: datetime) -> str:
    return value.astimezone(LOCAL_ZONE).strftime("%d/%m/%Y %H:%M")


def local_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def name_in(locale: str, item: Any) -> str:
    """The English or Vietnamese name of a unit, office or counter."""
    return str(item.name_en if locale == "en" and item.name_en else item.name_vi)


def switch_url(request: Request, locale: str) -> str:
    """This page in the other language (a GET: on a POSTed page, what was typed is not kept)."""
    params = dict(request.query_params)
    params["lang"] = locale
    return f"{request.url.path}?{urlencode(params)}"


def _environment(translations: gettext.NullTranslations, locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the code: no stat() per include per row
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals["name"] = lambda item: name_in(locale, item)
    env.globals["field_error"] = lambda err: _field_error(translations, locale, err)
    env.globals["category_label"] = lambda code: label(CATEGORY_LABELS, code)
    env.globals["status_label"] = lambda code: label(STATUS_LABELS, code)
    env.globals["rating_label"] = lambda score: label(RATING_LABELS, score)
    env.globals["channel_label"] = lambda code: label(CHANNEL_LABELS, code)
    env.globals["action_label"] = lambda code: label(ACTION_LABELS, code)
    env.globals["timeline_label"] = lambda code: label(TIMELINE_LABELS, code)
    env.globals["assignment_label"] = lambda code: label(ASSIGNMENT_LABELS, code)
    env.globals["role_label"] = lambda code: label(ROLE_LABELS, code)
    env.globals["level_label"] = lambda code: label(LEVEL_LABELS, code)
    env.globals["notice_text"] = lambda notice: _notice(translations, locale, notice)
    env.filters["datetime"] = local_datetime
    env.filters["date"] = local_date
    env.filters["fulldate"] = lambda d: format_date(d, format="full", locale=locale)
    env.filters["number"] = lambda n: format_decimal(n, locale=locale)
    return env


def _field_error(translations: gettext.NullTranslations, locale: str, err: FieldError) -> str:
    params = {key: format_decimal(value, locale=locale) for key, value in err.params.items()}
    message = translations.gettext(err.message)
    return message % params if params else message


def _notice(translations: gettext.NullTranslations, locale: str, notice: Notice) -> str:
    """A flash message: numbers in the locale's format, labels translated, text as is."""
    params: dict[str, str] = {
        key: format_decimal(value, locale=locale) if isinstance(value, int) else str(value)
        for key, value in notice.params.items()
    }
    params.update({key: translations.gettext(msgid) for key, msgid in notice.labels.items()})
    message = translations.gettext(notice.message)
    return message % params if params else message


class Renderer:
    def __init__(self, translations: Mapping[str, gettext.NullTranslations]) -> None:
        self.envs = {loc: _environment(translations[loc], loc) for loc in LOCALES}

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        locale = locale_for(request)
        other = "en" if locale == "vi" else "vi"
        page = {
            "request": request,
            "lang": locale,
            "switch_url": switch_url(request, other),
            "switch_label": SWITCH_LABELS[other],
            "switch_lang": other,
            **(context or {}),
        }
        html = self.envs[locale].get_template(template).render(page)
        return HTMLResponse(html, status_code=status_code)
