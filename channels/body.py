"""The one way channels read an HTTP request body and refuse a bad one.

Every refusal has the same shape, a JSON body ``{"error": code, "message": French explanation}`` with a 4xx
status, whatever the channel; each channel chooses the media types it accepts and the wording of its
explanations.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from sanic import response
from sanic.response import HTTPResponse

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class RequestError(Exception):
    """A request refused with ``status`` and ``{"error": code, "message": message}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message  # French, for whoever wrote the client

    def response(self) -> HTTPResponse:
        return response.json({"error": self.code, "message": self.message}, status=self.status)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_body(
    content_type: str | None,
    body: bytes,
    *,
    wrong_type: str,
    invalid: str,
    accept_form: bool = False,
) -> dict[str, Any]:
    """The request's fields: a JSON object, or a form (first value of each field) when ``accept_form``.

    Raises RequestError: 415 ``unsupported_media_type`` (with ``wrong_type``) for another media type, 400
    ``invalid_json`` or ``invalid_form`` (with ``invalid``) for a body that does not decode to fields.
    """
    kind = media_type(content_type)
    if kind == JSON:
        try:
            fields = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError includes JSONDecodeError
            fields = None
        if not isinstance(fields, dict):
            raise RequestError(400, "invalid_json", invalid)
        return fields
    if kind == FORM and accept_form:
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise RequestError(400, "invalid_form", invalid) from None
        return {name: values[0] for name, values in form.items()}
    raise RequestError(415, "unsupported_media_type", wrong_type)
