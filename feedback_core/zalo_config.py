"""The wards' Zalo Official Accounts: one entry per OA, read from ``FEEDBACK_ZALO_OAS``.

The setting holds a JSON list, or the path of a file holding it::

    [{"unit_id": "nhat-tan", "oa_id": "3662729599332560487", "app_id": "2553928453557884079",
      "secret_key": "env:NHAT_TAN_OA_SECRET", "access_token": "env:NHAT_TAN_OA_TOKEN",
      "api_base_url": "https://openapi.zalo.me"}]

``secret_key`` is the OA secret key that signs the webhook (not the app's secret). The
send-message API takes an access token: tokens that refresh themselves need ``app_secret``
(the app's secret key) and ``refresh_token`` (the first one, from authorising the app on the
OA; consumers/zalo_tokens.py keeps the current pair in PostgreSQL), else ``access_token`` is
used as it is until it expires. A value ``env:NAME`` is read from the
environment variable NAME, so secrets need not sit in the file. Every problem is reported at
start, all at once, with the entry and the field (``ZaloConfigError``). Pure: the caller reads
the file and the environment (``load_zalo_oas``). Docs: docs/zalo.md.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

DEFAULT_API_BASE_URL = "https://openapi.zalo.me"
DEFAULT_OAUTH_BASE_URL = "https://oauth.zaloapp.com"
_ZALO_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")  # the intake's contact_zalo takes these
_ENV_REF = "env:"


class ZaloConfigError(ValueError):
    """The Zalo OA configuration cannot be used; the message lists every problem."""


class ZaloOaEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    unit_id: str = Field(min_length=1, description="the ward the OA belongs to")
    oa_id: str = Field(description="the OA's id: recipient.id of the webhook events")
    app_id: str = Field(description="the Zalo app linked to the OA: app_id of the events")
    secret_key: str = Field(min_length=8, description="the OA secret key (webhook signature)")
    access_token: str = Field(default="", description="a fixed OA access token (send API)")
    app_secret: str = Field(default="", description="the app's secret key (token refresh)")
    refresh_token: str = Field(
        default="", description="the first refresh token; the current pair lives in PostgreSQL"
    )
    api_base_url: str = Field(default=DEFAULT_API_BASE_URL)
    oauth_base_url: str = Field(default=DEFAULT_OAUTH_BASE_URL)
    counter_id: str = Field(
        default="",
        description="the counter messages are filed at; empty = the unit's first open counter",
    )

    @field_validator("oa_id", "app_id")
    @classmethod
    def _zalo_id(cls, value: str) -> str:
        if not _ZALO_ID.fullmatch(value):
            raise ValueError("must be the id Zalo shows (digits, 1 to 64 characters)")
        return value

    @field_validator("api_base_url", "oauth_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL, e.g. https://openapi.zalo.me")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _a_way_to_send(self) -> ZaloOaEntry:
        if self.refresh_token and not self.app_secret:
            raise ValueError("refresh_token needs app_secret (the app's secret key)")
        if not (self.refresh_token or self.access_token):
            raise ValueError(
                "give refresh_token and app_secret (tokens that refresh themselves) or access_token"
            )
        return self

    @property
    def refreshes(self) -> bool:
        """The access token is renewed with the refresh token (not a fixed one)."""
        return bool(self.refresh_token)


@dataclass(frozen=True)
class ZaloOas:
    """The configured OAs, by OA id."""

    by_oa_id: Mapping[str, ZaloOaEntry]

    def __bool__(self) -> bool:
        return bool(self.by_oa_id)

    def get(self, oa_id: str) -> ZaloOaEntry | None:
        return self.by_oa_id.get(oa_id)


NO_OAS = ZaloOas({})


def parse_zalo_oas(raw: str, environ: Mapping[str, str] | None = None) -> ZaloOas:
    """The OAs of a JSON list; ``env:NAME`` values are read from ``environ``."""
    environ = os.environ if environ is None else environ
    try:
        data: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ZaloConfigError(f"FEEDBACK_ZALO_OAS is not JSON: {exc}") from exc
    if not isinstance(data, list):
        raise ZaloConfigError("FEEDBACK_ZALO_OAS must be a JSON list of OAs")
    problems: list[str] = []
    found: dict[str, ZaloOaEntry] = {}
    for index, item in enumerate(data):
        where = f"FEEDBACK_ZALO_OAS[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object")
            continue
        resolved = dict(item)
        for name in ("secret_key", "access_token", "app_secret", "refresh_token"):
            value = resolved.get(name)
            if isinstance(value, str) and value.startswith(_ENV_REF):
                variable = value[len(_ENV_REF) :]
                if variable not in environ:
                    problems.append(f"{where}.{name}: environment variable {variable} is unset")
                resolved[name] = environ.get(variable, "")
        try:
            entry = ZaloOaEntry.model_validate(resolved)
        except ValidationError as exc:
            problems.extend(
                f"{where}.{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}"
                for e in exc.errors()
            )
            continue
        if entry.oa_id in found:
            problems.append(f"{where}.oa_id: OA {entry.oa_id} is configured twice")
        found[entry.oa_id] = entry
    if problems:
        raise ZaloConfigError("Zalo OA configuration: " + "; ".join(problems))
    return ZaloOas(found)


def load_zalo_oas(setting: str, environ: Mapping[str, str] | None = None) -> ZaloOas:
    """``FEEDBACK_ZALO_OAS``: empty = none; JSON text; or the path of a JSON file."""
    text = setting.strip()
    if not text:
        return NO_OAS
    if not text.startswith("["):
        path = Path(text)
        if not path.is_file():
            raise ZaloConfigError(f"FEEDBACK_ZALO_OAS: no file {path} (nor a JSON list)")
        text = path.read_text(encoding="utf-8")
    return parse_zalo_oas(text, environ)


def check_units(oas: ZaloOas, open_units: Mapping[str, Any]) -> None:
    """Every OA names a unit of the organisation (checked at start, with the directory)."""
    unknown = [f"{e.oa_id} → {e.unit_id}" for e in oas.by_oa_id.values()
               if e.unit_id not in open_units]  # fmt: skip
    if unknown:
        raise ZaloConfigError("Zalo OA configuration: unknown unit for OA " + ", ".join(unknown))
