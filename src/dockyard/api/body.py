"""Request bodies: JSON or form-encoded (the v1 Python client posts forms), empty allowed,
validated by a pydantic model with DRF-style field errors on failure.

Routes declare ``data: Annotated[Model, body(Model)]`` and ``openapi_extra=takes(Model)``, so
the OpenAPI document still describes the body honestly.
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import parse_qsl

import orjson
from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from dockyard.core.errors import DockyardError, Invalid

M = TypeVar("M", bound=BaseModel)

FORM_TYPES = ("application/x-www-form-urlencoded",)
MAX_BODY = 1 << 20


class FieldErrors(DockyardError):
    """Several field errors at once, in DRF's ``{"field": ["message"]}`` shape."""

    status = 400

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors

    def body(self) -> dict[str, object]:
        return dict(self.errors)


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "This field is required."
    if kind in ("string_type",):
        return "Not a valid string."
    if kind in ("bool_type", "bool_parsing"):
        return "Must be a valid boolean."
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "A valid integer is required."
    if kind == "string_too_long":
        limit = error.get("ctx", {}).get("max_length")
        return f"Ensure this field has no more than {limit} characters."
    return str(error.get("msg", "Invalid value."))


def validation_errors(exc: ValidationError) -> FieldErrors:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        field = loc[0] if loc else "non_field_errors"
        errors.setdefault(field, []).append(_message(dict(error)))
    return FieldErrors(errors)


NULL_CHARACTERS = "Null characters are not allowed."
# No body of this API nests deeper than a healthcheck probe (about 7 levels). Deeper input is
# refused before anything recurses over it (repr, json, orjson cap out long before 1024).
MAX_DEPTH = 32


def _has_null(value: Any) -> bool:
    """Whether any string (key or value) holds U+0000; refuses nesting beyond MAX_DEPTH."""
    found = False
    pending = [(value, 1)]  # iterative: the walk itself must not hit the recursion limit
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            found = found or "\x00" in item
        elif isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise Invalid(f"JSON parse error - nested deeper than {MAX_DEPTH} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return found


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    """Like DRF's ``ProhibitNullCharactersValidator``: no string anywhere in a body may hold
    U+0000 (PostgreSQL cannot store it, and no name, value or command needs it)."""
    bad = {
        "non_field_errors" if "\x00" in key else key
        for key, value in data.items()
        if _has_null(key) or _has_null(value)
    }
    if bad:
        raise FieldErrors({field: [NULL_CHARACTERS] for field in sorted(bad)})
    return data


async def read_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Invalid("Request body too large.")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in FORM_TYPES:
        try:
            form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise Invalid("Form data is not valid UTF-8.") from None
        return _checked(form)
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"JSON parse error - {exc.msg}") from None
    if not isinstance(data, dict):
        raise Invalid(
            f"Invalid data. Expected a dictionary, but got {type(data).__name__}.",
            field="non_field_errors",
        )
    return _checked(data)


def parse(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_errors(exc) from None


def body(model: type[M]) -> Any:
    async def dependency(request: Request) -> M:
        return parse(model, await read_body(request))

    return Depends(dependency)


def takes(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": required,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    }
