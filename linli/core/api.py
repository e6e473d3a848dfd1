"""Shared API pieces: the error shape, authentication, and a capped paginator."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase
from ninja.security import HttpBearer, django_auth


class ErrorOut(Schema):
    code: str = Field(..., description="machine-readable error code, e.g. outside_jurisdiction")
    message: str = Field(..., description="human-readable message (Chinese)")
    details: dict[str, Any] | None = None


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


session_or_token = [django_auth, BearerToken()]


class CappedPagination(PaginationBase):
    """``?page=&page_size=`` with the page size capped at API_MAX_PAGE_SIZE."""

    class Input(Schema):
        page: int = Field(1, ge=1, description="1-based page number")
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
            "count": queryset.count()
            if hasattr(queryset, "count") and callable(queryset.count)
            else len(queryset),
            "page": pagination.page,
            "page_size": pagination.page_size,
        }
