"""Shared API pieces: the error shape, authentication, and a capped paginator."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import pydantic
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Schema
from ninja.errors import ValidationError
from ninja.pagination import PaginationBase
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth


class LocalTimeJSONEncoder(NinjaJSONEncoder):
    """Every aware time in the district's local time with its offset (``2026-03-02T09:00:00+08:00``), as
    residents and staff read them: a value computed in the request (a new case's deadlines, from the
    working calendar) and the same value read back from the database (UTC) are written alike."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime) and o.utcoffset() is not None:
            o = timezone.localtime(o)
        return super().default(o)


class LocalTimeJSONRenderer(JSONRenderer):
    encoder_class = LocalTimeJSONEncoder


class ErrorOut(Schema):
    code: str = Field(..., description="machine-readable error code, e.g. outside_jurisdiction")
    message: str = Field(..., description="human-readable message (Chinese)")
    details: dict[str, Any] | None = None


@functools.cache
def _schema_readers(schema: type[Schema]) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    if getattr(schema, "_ninja_resolvers", None):
        raise TypeError(f"{schema.__name__} has resolve_* methods: validate the object itself")
    return tuple(
        (field.alias or name, operator.attrgetter(field.alias or name))
        for name, field in schema.model_fields.items()
    )


def schema_input(schema: type[Schema], obj: Any, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """``obj``'s values as ``schema`` reads them, as a dict keyed by field (or dotted alias) for validation.

    What ninja's getter does with a model instance — attributes, dotted aliases through related objects
    (missing ones left to the field's default), methods called — done with ``operator.attrgetter``: ninja
    resolves each dotted alias through Django's template ``Variable``, a few hundred microseconds per case
    on the submission path. The result still goes through ``schema``'s validation (masking included).
    ``given``: values the caller already has, by key (not read from ``obj``: e.g. names of related rows
    that would otherwise be fetched).
    """
    values: dict[str, Any] = dict(given or {})
    for key, read in _schema_readers(schema):
        if key in values:
            continue
        try:
            value = read(obj)
        except AttributeError:
            continue
        values[key] = value() if callable(value) else value
    return values


S = TypeVar("S", bound=Schema)


def form_input(schema: type[S], request: HttpRequest) -> S:
    """``schema`` validated from the request's form fields (the last value of a repeated field), as an
    operation's ``Form[schema]`` parameter gives it; bad values raise ninja's ``ValidationError`` with the
    same error list (``loc`` starting with ``"form"``), which the API answers 422 ``invalid_input``."""
    try:
        return schema.model_validate(request.POST.dict())
    except pydantic.ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            error["loc"] = ("form", *error["loc"])
            error.pop("input", None)  # type: ignore[misc]  # the value sent is not echoed back
            context = error.get("ctx")
            if context and isinstance(context.get("error"), Exception):
                context["error"] = str(context["error"])
            errors.append(dict(error))
        raise ValidationError(errors) from exc


def form_openapi(schema: type[Schema], *, files: dict[str, str]) -> dict[str, Any]:
    """The OpenAPI request body of an operation that reads ``schema`` with ``form_input`` and the named
    file fields itself (ninja documents only parameters it parses)."""
    body = schema.model_json_schema(ref_template="#/components/schemas/{model}")
    properties = dict(body.get("properties", {}))
    for name, description in files.items():
        properties[name] = {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": description,
        }
    form = {"type": "object", "title": schema.__name__, "properties": properties}
    if body.get("required"):
        form["required"] = body["required"]
    content = {"schema": form}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": content,
                "application/x-www-form-urlencoded": content,
            },
        }
    }


class ApiError(Exception):
    """Raise from an endpoint to answer ``{code, message}`` with the given HTTP status."""

    def __init__(
        self, code: str, message: str, status: int = 400, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from linli.accounts.services import api_token_user

        user = api_token_user(raw=token)
        if user is not None:
            request.user = user
        return user


class SessionCookieAuth(SessionAuth):
    """The browser's session, CSRF-checked on unsafe methods - but only when a session cookie came with the
    request. ninja's ``django_auth`` checks CSRF first and answers 403 without one, which stopped every
    bearer-token POST before ``BearerToken`` was tried (found by the API fuzz test)."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super()._get_key(request)


# A bearer token first: only a script can set that header, so it needs no CSRF check; then the session.
session_or_token = [BearerToken(), SessionCookieAuth()]


class CappedPagination(PaginationBase):
    """``?page=&page_size=`` with the page size capped at API_MAX_PAGE_SIZE."""

    class Input(Schema):
        # Capped: a huge page number overflowed the SQL OFFSET into a 500 (found by the API fuzz test).
        page: int = Field(1, ge=1, le=100_000, description="1-based page number (≤ 100000)")
        page_size: int = Field(20, ge=1, le=settings.API_MAX_PAGE_SIZE, description="items per page (≤ 100)")

    class Output(Schema):
        items: list[Any]
        count: int
        page: int
        page_size: int

    items_attribute = "items"

    def paginate_queryset(
        self, queryset: Any, pagination: Any, request: HttpRequest | None = None, **params: Any
    ) -> dict[str, Any]:
        offset = (pagination.page - 1) * pagination.page_size
        return {
            "items": list(queryset[offset : offset + pagination.page_size]),
            # A list's count() counts one value: only a QuerySet's counts rows.
            "count": len(queryset) if isinstance(queryset, list | tuple) else queryset.count(),
            "page": pagination.page,
            "page_size": pagination.page_size,
        }


_COMMON_ERRORS = {
    "401": "未登录、登录已超时或未完成动态口令验证(not_authenticated / session_expired / otp_required)",
    "403": "无权操作或 CSRF 校验失败",
    "404": "对象不存在或不在您的权限范围内(not_found)",
    "422": "请求参数不正确(invalid_input)",
}


def document_common_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the answers every operation can give to its OpenAPI entry, so clients (and the schema fuzz test)
    know them: 401/403/404 on operations that need a sign-in (404 is the answer outside one's scope), 404
    on public operations with a path id, 422 on operations that take input. All carry ``ErrorOut``; an operation's own description of a status wins."""
    error_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorOut", ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}"))
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            # ninja keys responses by int; JSON would then hold 422 and "422" as two keys (a parse error).
            operation["responses"] = {str(k): v for k, v in operation["responses"].items()}
            statuses = []
            if operation.get("security"):
                # 404 too: a role without the capability or scope is answered "not found" (QUALITY AC-1).
                statuses += ["401", "403", "404"]
            elif any(p.get("in") == "path" for p in operation.get("parameters", [])):
                statuses.append("404")  # no such object, or an id the URL cannot match
            if operation.get("parameters") or operation.get("requestBody"):
                statuses.append("422")
            for status in statuses:
                operation["responses"].setdefault(
                    status, {"description": _COMMON_ERRORS[status], "content": error_ref}
                )
    return schema
