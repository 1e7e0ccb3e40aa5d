"""The two formats of GeoReport v2: XML (required) and JSON (the Spark convention).

A response is built once as plain data — dicts, lists, strings, numbers, booleans and
``None`` — and written in either format:

* JSON: the data as it is; a list resource (services, service requests, errors) is a bare
  array, ``None`` is ``null``.
* XML: ``<?xml version="1.0" encoding="utf-8"?>``, no namespace; a list is a container
  element whose children are named by ``ITEM_NAMES`` (``<services><service>``,
  ``<attributes><attribute>``, ``<values><value>``, ``<formats><format>``, ...); ``None`` is
  an empty element, booleans are ``true``/``false``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from enum import StrEnum

from starlette.responses import Response

from feedback_core.local_time import LOCAL_ZONE
from web.open311.errors import ErrorItem

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
MIME_TYPES = ("text/xml", "application/json")  # as the discovery document lists them
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# Characters XML 1.0 cannot carry at all (a stray control character in a stored text must not
# make the whole answer ill-formed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Container element -> the name of each of its children (the Spark convention, inverted).
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}

Data = None | bool | int | float | str | Sequence["Data"] | Mapping[str, "Data"]


class Format(StrEnum):
    XML = "xml"
    JSON = "json"

    @classmethod
    def of_path(cls, path: str) -> Format:
        """The format a path asks for by its extension; XML (the required one) otherwise."""
        return cls.JSON if path.endswith(".json") else cls.XML


def render(data: Data, root: str, fmt: Format, status_code: int = 200) -> Response:
    """``root`` names the XML root element (``services``, ``service_definition``, ...)."""
    if fmt is Format.JSON:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return Response(body.encode(), status_code, media_type=JSON_TYPE)
    element = ET.Element(root)
    _fill(element, data)
    ET.indent(element)
    body = XML_DECLARATION + ET.tostring(element, encoding="unicode")
    return Response(body.encode(), status_code, media_type=XML_TYPE)


def render_errors(items: Sequence[ErrorItem], status_code: int, fmt: Format) -> Response:
    data: list[Data] = [{"code": i.code, "description": i.description} for i in items]
    return render(data, "errors", fmt, status_code)


def _fill(element: ET.Element, data: Data) -> None:
    if data is None:
        return
    if isinstance(data, bool | int | float | str):
        element.text = _text(data)
    elif isinstance(data, Mapping):
        for key, value in data.items():
            _fill(ET.SubElement(element, key), value)
    else:
        item_name = ITEM_NAMES[element.tag]
        for value in data:
            _fill(ET.SubElement(element, item_name), value)


def _text(value: bool | int | float | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def w3c(at: datetime) -> str:
    """A W3C date-time with the offset of Hà Nội: ``2026-11-23T10:30:00+07:00``."""
    return at.astimezone(LOCAL_ZONE).isoformat(timespec="seconds")


def end_of_day(day: date) -> str:
    """The last second of a local date (a due date ends at the end of its last day)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=LOCAL_ZONE).isoformat()
