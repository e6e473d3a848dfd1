"""GeoReport v2 bodies in both formats: JSON arrays/objects and XML built with ``xml.etree`` (never by string).

Values are strings, numbers, booleans, None (empty element in XML, null in JSON), datetimes (W3C format with
offset, as the spec asks) and nested lists of dicts (``attributes``, ``formats``). Untrusted XML is never
parsed here; anything that has to parse XML uses defusedxml.

Every XML text passes through ``xml_safe``: element names are our own keys and no attributes are written, so
the text is the only place where what a resident or a client typed (a result text, an id echoed in an error)
reaches the document.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
# As the spec's samples write it (xml.etree's own has single quotes and a lower-case encoding).
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# Outside XML 1.0's Char production (C0 controls other than tab, newline and return; lone surrogates;
# U+FFFE and U+FFFF): one such character, e.g. a \x0b pasted from Word, makes the whole document
# unparseable, and xml.etree writes it as it is.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 forbids replaced by U+FFFD (visibly, not silently dropped)."""
    return _NOT_XML_CHAR.sub("\ufffd", text)


def w3c(value: datetime | None) -> str | None:
    """``2026-11-22T10:15:00+08:00`` (local time with its offset), the spec's W3C datetime."""
    if value is None:
        return None
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c(value) or ""
    return xml_safe(str(value))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return w3c(value)
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# Which element name the items of a nested list take in XML (the spec's singular forms).
XML_ITEM = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def _fill(parent: ET.Element, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        child = ET.SubElement(parent, key)
        if isinstance(value, list | tuple):
            item_tag = XML_ITEM.get(key, key.rstrip("s"))
            for item in value:
                sub = ET.SubElement(child, item_tag)
                if isinstance(item, Mapping):
                    _fill(sub, item)
                else:
                    sub.text = _text(item)
        elif isinstance(value, Mapping):
            _fill(child, value)
        else:
            child.text = _text(value)


def xml_bytes(root: str, item: str | None, body: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> bytes:
    top = ET.Element(root)
    if isinstance(body, Mapping):
        _fill(top, body)
    else:
        for row in body:
            _fill(ET.SubElement(top, item or "item"), row)
    return XML_DECLARATION + ET.tostring(top, encoding="utf-8", xml_declaration=False)


def respond(
    fmt: str,
    body: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    *,
    root: str,
    item: str | None = None,
    status: int = 200,
) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(xml_bytes(root, item, body), content_type=XML_TYPE, status=status)
    data = json.dumps(_jsonable(body), ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(data.encode("utf-8"), content_type=JSON_TYPE, status=status)


class Open311Error(Exception):
    """A refusal in the spec's shape: HTTP 400/403/404/405/429 with ``[{code, description}]``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(fmt: str, errors: Sequence[Open311Error]) -> HttpResponse:
    # ``code`` is the HTTP status as the spec shows it; our machine code leads the description.
    body = [{"code": e.status, "description": f"{e.code}: {e.message}"} for e in errors]
    return respond(fmt, body, root="errors", item="error", status=errors[0].status)
