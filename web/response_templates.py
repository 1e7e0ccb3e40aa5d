"""Answers a handler starts from: ``feedback_core/data/response_templates.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any


@dataclass(frozen=True)
class ResponseTemplate:
    code: str
    category: str | None  # None: offered for every category
    title_vi: str
    title_en: str
    text: str

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" and self.title_en else self.title_vi

    def fill(self, tracking_code: str, unit: str) -> str:
        """The text with the case's code and unit (str.replace: no other braces matter)."""
        return self.text.replace("{tracking_code}", tracking_code).replace("{unit}", unit)


def templates_from(data: dict[str, Any]) -> tuple[ResponseTemplate, ...]:
    return tuple(
        ResponseTemplate(
            code=str(t["code"]),
            category=t.get("category"),
            title_vi=str(t["title_vi"]),
            title_en=str(t.get("title_en") or ""),
            text=str(t["text"]),
        )
        for t in data["templates"]
    )


@cache
def packaged_templates() -> tuple[ResponseTemplate, ...]:
    text = files("feedback_core").joinpath("data/response_templates.json").read_text("utf-8")
    return templates_from(json.loads(text))


def templates_for(category: str) -> list[ResponseTemplate]:
    """The category's own templates first, then the general ones."""
    every = packaged_templates()
    return [t for t in every if t.category == category] + [
        t for t in every if t.category is None
    ]


def find_template(code: str) -> ResponseTemplate | None:
    return next((t for t in packaged_templates() if t.code == code), None)
