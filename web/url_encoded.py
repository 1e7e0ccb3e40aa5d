"""A request's form, with URL-encoded bodies parsed in one pass by the standard library.

Starlette parses ``application/x-www-form-urlencoded`` through python-multipart's
callback parser, in pure Python, field by field: ≈ 12 % of the web's CPU per QR POST
(docs/performance.md, the intake section). ``urllib.parse.parse_qsl`` gives the same
pairs (``+`` and ``%XX`` decoded as UTF-8, blank values kept) for a fraction of that.
Starlette's limits are kept: at most ``MAX_FIELDS`` fields and ``MAX_FIELD_BYTES`` per
field, else 400, as ``request.form()`` answers. Multipart bodies (a photo) and anything
else go to ``request.form()`` as before. The body is read through the app's receive
channel, so the body size limits (web.middleware.BodySizeLimit) apply unchanged.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

URL_ENCODED = "application/x-www-form-urlencoded"
MAX_FIELDS = 1000  # request.form()'s defaults
MAX_FIELD_BYTES = 1024 * 1024


async def form_of(request: Request) -> FormData:
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != URL_ENCODED:
        return await request.form()
    body = (await request.body()).decode("latin-1")
    if body.count("&") >= MAX_FIELDS:
        raise HTTPException(400, f"Too many fields. Maximum number of fields is {MAX_FIELDS}.")
    if len(body) > MAX_FIELD_BYTES and any(len(f) > MAX_FIELD_BYTES for f in body.split("&")):
        raise HTTPException(400, f"Field exceeded maximum size of {MAX_FIELD_BYTES // 1024}KB.")
    pairs: list[tuple[str, str | UploadFile]] = []
    pairs += parse_qsl(body, keep_blank_values=True)
    return FormData(pairs)
