"""The JSON API: django-ninja under /api/, OpenAPI docs at /api/docs (served from our own static files)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from linli.core.api import ApiError, LocalTimeJSONRenderer, document_common_errors
from linli.security.denials import audit_api_denial
from linli.security.ratelimit import RateLimited


class LinliAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_common_errors(schema)


api = LinliAPI(
    title="邻里 linli API",
    version="1",
    description="Community services and grid governance. Errors answer {code, message}.",
    urls_namespace="api",
    renderer=LocalTimeJSONRenderer(),
)


@csrf_exempt  # it changes nothing; without this a POST would get Django's HTML CSRF page instead
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any /api/ URL no endpoint matches (e.g. a negative id against an ``{int:...}`` path) answers the API's
    JSON 404, not Django's HTML page."""
    return JsonResponse({"code": "not_found", "message": "对象不存在或无权访问"}, status=404)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    audit_api_denial(request, exc, status=exc.status, code=exc.code)  # a 403 is audited (AUD-1)
    body = {"code": exc.code, "message": exc.message}
    if exc.details:
        body["details"] = exc.details  # type: ignore[assignment]
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = _api_error(request, exc)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(OverflowError)
def _overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # SQLite refuses integers past 64 bits before running the query (PostgreSQL just finds nothing):
    # an id or filter that large is bad input, not a server error (found by the API fuzz test).
    return api.create_response(request, {"code": "invalid_input", "message": "请求参数超出范围"}, status=422)


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
    audit_api_denial(request, exc, status=404)  # only a ScopeDenied is audited
    return api.create_response(request, {"code": "not_found", "message": "对象不存在或无权访问"}, status=404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    audit_api_denial(request, exc, status=exc.status_code)
    return api.create_response(
        request, {"code": f"http_{exc.status_code}", "message": str(exc)}, status=exc.status_code
    )


from linli.accounts.api import router as accounts_router  # noqa: E402
from linli.bookings.api import router as bookings_router  # noqa: E402
from linli.cases.api import router as cases_router  # noqa: E402
from linli.catalog.api import router as catalog_router  # noqa: E402
from linli.needs.api import router as needs_router  # noqa: E402
from linli.notifications.api import router as notifications_router  # noqa: E402
from linli.party.api import router as party_router  # noqa: E402
from linli.patrols.api import router as patrols_router  # noqa: E402
from linli.people.api import router as people_router  # noqa: E402
from linli.places.api import router as places_router  # noqa: E402
from linli.stations.api import router as stations_router  # noqa: E402

# The closed loop first: the URL resolver tries the routers' paths in this order, and case submission
# is the busiest POST (also the heart of the API documentation).
api.add_router("/cases/", cases_router)
api.add_router("/accounts/", accounts_router)
api.add_router("/places/", places_router)
api.add_router("/people/", people_router)
api.add_router("/stations/", stations_router)
api.add_router("/catalog/", catalog_router)
api.add_router("/notifications/", notifications_router)
api.add_router("/bookings/", bookings_router)
api.add_router("/patrols/", patrols_router)
api.add_router("/party/", party_router)
api.add_router("/needs/", needs_router)
