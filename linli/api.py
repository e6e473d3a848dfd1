"""The JSON API: django-ninja under /api/, OpenAPI docs at /api/docs (served from our own static files)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from linli.core.api import ApiError

api = NinjaAPI(
    title="邻里 linli API",
    version="1",
    description="Community services and grid governance. Errors answer {code, message}.",
    urls_namespace="api",
)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    body = {"code": exc.code, "message": exc.message}
    if exc.details:
        body["details"] = exc.details  # type: ignore[assignment]
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(
        request,
        {"code": "invalid_input", "message": "请求参数不正确", "details": {"errors": exc.errors}},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"code": "not_authenticated", "message": "请先登录"}, status=401)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"code": "not_found", "message": "对象不存在或无权访问"}, status=404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(
        request, {"code": f"http_{exc.status_code}", "message": str(exc)}, status=exc.status_code
    )


from linli.accounts.api import router as accounts_router  # noqa: E402
from linli.places.api import router as places_router  # noqa: E402

api.add_router("/accounts/", accounts_router)
api.add_router("/places/", places_router)
