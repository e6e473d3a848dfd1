"""Open311 GeoReport v2 endpoints (http://wiki.open311.org/GeoReport_v2) plus FixMyStreet's
``servicerequestupdates``. Plain Django views: the spec fixes URLs, both formats and the error shape.

POST needs an API key issued in the admin (``Open311Client``); the request goes through ``case_submit``
(channel ``open311``, idempotency scoped to the client, photos through the cases attachment ingestion).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from linli.cases.errors import CaseError
from linli.cases.models import Channel
from linli.cases.services import case_submit
from linli.integrations.open311 import selectors as sel
from linli.integrations.open311.clients import open311_client_authenticate
from linli.integrations.open311.render import Open311Error, error_response, respond

CHANGESET = "2026-11-22T00:00:00+08:00"
MAX_MEDIA = 9

View = Callable[..., HttpResponse]


def _spec(view: View) -> View:
    """Turn Open311Error / CaseError into the spec's error body, in the requested format."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            response = error_response(fmt, [exc])
        except CaseError as exc:
            status = exc.status if exc.status in (400, 403, 404) else 400
            response = error_response(fmt, [Open311Error(status, exc.code, exc.message)])
        response["Cache-Control"] = "no-store" if request.method == "POST" else "public, max-age=60"
        return response

    return wrapped


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _date(request: HttpRequest, name: str) -> datetime | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    value = parse_datetime(raw.replace(" ", "+"))  # a "+08:00" offset arrives as " 08:00" if not encoded
    if value is None:
        raise Open311Error(400, "invalid_date", f"{name} 应为W3C日期时间格式,如 2026-11-01T00:00:00+08:00")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _int(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Open311Error(400, "invalid_number", f"{name} 应为正整数") from None
    if value < 1:
        raise Open311Error(400, "invalid_number", f"{name} 应为正整数")
    return value


@require_http_methods(["GET"])
@_spec
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    body = {
        "changeset": CHANGESET,
        "contact": getattr(settings, "OPEN311_CONTACT", "12345"),
        "key_service": "请联系区网格化服务管理中心,由后台管理员签发接入密钥",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": _base(request) + "/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, body, root="discovery")


@require_http_methods(["GET"])
@_spec
def services(request: HttpRequest, *, fmt: str) -> HttpResponse:
    body = [sel.service_dict(c) for c in sel.services_list()]
    return respond(fmt, body, root="services", item="service")


@require_http_methods(["GET"])
@_spec
def service_definition(request: HttpRequest, code: str, *, fmt: str) -> HttpResponse:
    if sel.service_get(code) is None:
        raise Open311Error(404, "unknown_service", f"服务代码 {code} 不存在")
    return respond(fmt, {"service_code": code, "attributes": []}, root="service_definition")


@csrf_exempt  # a machine API authenticated by api_key, no cookies involved
@require_http_methods(["GET", "POST"])
@_spec
def requests(request: HttpRequest, *, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    ids = tuple(i.strip() for i in request.GET.get("service_request_id", "").split(",") if i.strip())
    status = request.GET.get("status", "").strip().lower()
    if status not in ("", "open", "closed"):
        raise Open311Error(400, "invalid_status", "status 只能是 open 或 closed")
    codes = tuple(c.strip() for c in request.GET.get("service_code", "").split(",") if c.strip())
    filters = sel.RequestFilters(
        ids=ids[: sel.MAX_PAGE_SIZE],
        service_codes=codes,
        start=_date(request, "start_date"),
        end=_date(request, "end_date"),
        status=status,
        page=_int(request, "page", 1),
        page_size=_int(request, "page_size", sel.DEFAULT_PAGE_SIZE),
    )
    base = _base(request)
    body = [sel.request_dict(c, base=base) for c in sel.requests_list(filters)]
    return respond(fmt, body, root="service_requests", item="request")


@require_http_methods(["GET"])
@_spec
def request_one(request: HttpRequest, service_request_id: str, *, fmt: str) -> HttpResponse:
    case = sel.request_get(service_request_id)
    if case is None:
        raise Open311Error(404, "not_found", f"诉求 {service_request_id} 不存在或未公开")
    body = [sel.request_dict(case, base=_base(request))]
    return respond(fmt, body, root="service_requests", item="request")


@require_http_methods(["GET"])
@_spec
def token(request: HttpRequest, token: str, *, fmt: str) -> HttpResponse:
    # We answer POST with the id at once; the token is the same number, so this lookup always resolves.
    case = sel.request_get(token)
    if case is None:
        raise Open311Error(404, "not_found", f"凭据 {token} 不存在")
    body = [{"service_request_id": case.number, "token": token}]
    return respond(fmt, body, root="service_requests", item="request")


@require_http_methods(["GET"])
@_spec
def updates(request: HttpRequest, *, fmt: str) -> HttpResponse:
    start = _date(request, "start_date")
    if start is None:
        raise Open311Error(400, "start_date_required", "请提供 start_date")
    events = sel.updates_list(start=start, end=_date(request, "end_date"))
    body = [sel.update_dict(e) for e in events]
    return respond(fmt, body, root="service_request_updates", item="request_update")


def _float(request: HttpRequest, name: str) -> float | None:
    raw = request.POST.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise Open311Error(400, "invalid_coordinates", f"{name} 应为数字") from None


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    client = open311_client_authenticate(request.POST.get("api_key", "").strip())
    if client is None:
        raise Open311Error(403, "invalid_api_key", "api_key 无效或已停用")
    code = request.POST.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code_required", "请提供 service_code")
    service = sel.service_get(code)
    if service is None:
        raise Open311Error(404, "unknown_service", f"服务代码 {code} 不存在")
    lat, lng = _float(request, "lat"), _float(request, "long")
    address = request.POST.get("address_string", "").strip()
    if lat is None and lng is None and not address:
        raise Open311Error(400, "location_required", "请提供 lat/long 或 address_string")
    media = request.FILES.getlist("media")
    if len(media) > MAX_MEDIA:
        raise Open311Error(400, "too_many_photos", f"最多上传{MAX_MEDIA}张图片")
    name = " ".join(p for p in (request.POST.get("last_name", ""), request.POST.get("first_name", "")) if p)
    result = case_submit(
        text=request.POST.get("description", "").strip(),
        channel=Channel.OPEN311,
        category_id=service.pk,
        lat=lat,
        lng=lng,
        address=address,
        contact_name=name.strip(),
        contact_phone=request.POST.get("phone", "").strip(),
        photos=[f.read() for f in media],
        idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
        client_id=str(client.pk),
    )
    body = [{"service_request_id": result.case.number, "service_notice": "", "account_id": None}]
    return respond(fmt, body, root="service_requests", item="request", status=201 if result.created else 200)
