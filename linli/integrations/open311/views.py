"""Open311 GeoReport v2 endpoints (http://wiki.open311.org/GeoReport_v2) plus FixMyStreet's
``servicerequestupdates``. Plain Django views: the spec fixes URLs, both formats and the error shape.

POST needs an API key issued in the admin (``Open311Client``); the request goes through ``case_submit``
(channel ``open311``, idempotency scoped to the client, photos through the cases attachment ingestion);
an update through ``services.open311_update_post`` (a public progress note on a case the client may update).
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

from linli.cases.errors import CaseError
from linli.cases.forms import photos_read
from linli.cases.models import Channel
from linli.cases.services import case_submit
from linli.integrations.models import Open311Client
from linli.integrations.open311 import selectors as sel
from linli.integrations.open311.clients import open311_client_authenticate
from linli.integrations.open311.render import Open311Error, error_response, respond
from linli.integrations.open311.services import open311_update_post
from linli.integrations.open311.tokens import token_for, token_resolve
from linli.security.ratelimit import rate_limit_hit, rate_limited_message

CHANGESET = "2026-11-22T00:00:00+08:00"
# Building ids are bigint: 18 digits always fit, so an id never overflows the column in a lookup.
MAX_ADDRESS_ID_DIGITS = 18

View = Callable[..., HttpResponse]


def _spec(*methods: str) -> Callable[[View], View]:
    """The endpoint answers ``methods`` (all when none are named); everything else, and every Open311Error /
    CaseError, becomes the spec's error body in the requested format (a wrong method: 405, not Django's
    empty one).

    CSRF-exempt: a machine API, POSTs authenticated by ``api_key`` and no endpoint reading cookies (without
    it a POST to a read-only endpoint would meet the CSRF page instead of the 405).
    """

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
            # CFG-2: reads share the public API's budget per IP; writes (API-key clients) have their own.
            wait = rate_limit_hit(request, rule="open311_write" if request.method == "POST" else "public_api")
            if wait is not None:
                response = error_response(fmt, [Open311Error(429, "rate_limited", rate_limited_message())])
                response["Retry-After"] = str(wait)
                response["Cache-Control"] = "no-store"
                return response
            if methods and request.method not in methods:
                allowed = ", ".join(methods)
                refusal = Open311Error(405, "method_not_allowed", f"此地址只接受 {allowed} 请求")
                response = error_response(fmt, [refusal])
                response["Allow"] = allowed
                response["Cache-Control"] = "no-store"
                return response
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

    return decorate


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _date(request: HttpRequest, name: str, *, post: bool = False) -> datetime | None:
    raw = (request.POST if post else request.GET).get(name, "").strip()
    if not raw:
        return None
    value = parse_datetime(raw.replace(" ", "+"))  # a "+08:00" offset arrives as " 08:00" if not encoded
    if value is None:
        raise Open311Error(400, "invalid_date", f"{name} 应为W3C日期时间格式,如 2026-11-01T00:00:00+08:00")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _int(request: HttpRequest, name: str, default: int, *, maximum: int | None = None) -> int:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)  # more than 4,300 digits is a ValueError too (Python's int_max_str_digits)
    except ValueError:
        raise Open311Error(400, "invalid_number", f"{name} 应为正整数") from None
    if value < 1:
        raise Open311Error(400, "invalid_number", f"{name} 应为正整数")
    if maximum is not None and value > maximum:
        raise Open311Error(400, "number_too_large", f"{name} 不能超过{maximum}")
    return value


@_spec("GET")
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


@_spec("GET")
def services(request: HttpRequest, *, fmt: str) -> HttpResponse:
    body = [sel.service_dict(c) for c in sel.services_list()]
    return respond(fmt, body, root="services", item="service")


@_spec("GET")
def service_definition(request: HttpRequest, code: str, *, fmt: str) -> HttpResponse:
    if sel.service_get(code) is None:
        raise Open311Error(404, "unknown_service", f"服务代码 {code} 不存在")
    return respond(fmt, {"service_code": code, "attributes": []}, root="service_definition")


@_spec("GET", "POST")
def requests(request: HttpRequest, *, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    ids = tuple(i.strip() for i in request.GET.get("service_request_id", "").split(",") if i.strip())
    # "open", "closed", or both as a comma list (the spec: "can be declared multiple times, comma delimited").
    statuses = tuple(
        sorted({s.strip().lower() for s in request.GET.get("status", "").split(",") if s.strip()})
    )
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, "invalid_status", "status 只能是 open、closed 或 open,closed")
    codes = tuple(c.strip() for c in request.GET.get("service_code", "").split(",") if c.strip())
    try:
        start, end = sel.requests_date_range(
            _date(request, "start_date"), _date(request, "end_date"), now=timezone.now()
        )
    except sel.DateRangeError as exc:
        raise Open311Error(400, exc.code, exc.message) from None
    filters = sel.RequestFilters(
        ids=ids[: sel.MAX_PAGE_SIZE],
        service_codes=codes,
        start=start,
        end=end,
        statuses=statuses,
        page=_int(request, "page", 1, maximum=sel.MAX_PAGE),
        # A larger page_size is served at the cap, as documented, rather than refused.
        page_size=min(_int(request, "page_size", sel.DEFAULT_PAGE_SIZE), sel.MAX_PAGE_SIZE),
    )
    base = _base(request)
    body = [sel.request_dict(c, base=base) for c in sel.requests_list(filters)]
    return respond(fmt, body, root="service_requests", item="request")


@_spec("GET")
def request_one(request: HttpRequest, service_request_id: str, *, fmt: str) -> HttpResponse:
    case = sel.request_get(service_request_id)
    if case is None:
        raise Open311Error(404, "not_found", f"诉求 {service_request_id} 不存在或未公开")
    body = [sel.request_dict(case, base=_base(request))]
    return respond(fmt, body, root="service_requests", item="request")


@_spec("GET")
def token(request: HttpRequest, token: str, *, fmt: str) -> HttpResponse:
    # POST answered the id at once and this signed token with it; a case number or a forged token is 404.
    number = token_resolve(token)
    if number is None:
        raise Open311Error(404, "not_found", f"凭据 {token} 不存在")
    body = [{"service_request_id": number, "token": token}]
    return respond(fmt, body, root="service_requests", item="request")


@_spec("GET", "POST")
def updates(request: HttpRequest, *, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _update_create(request, fmt)
    start = _date(request, "start_date")
    if start is None:
        raise Open311Error(400, "start_date_required", "请提供 start_date")
    end = _date(request, "end_date")
    try:
        sel.date_order_check(start, end)
    except sel.DateRangeError as exc:
        raise Open311Error(400, exc.code, exc.message) from None
    events = sel.updates_list(start=start, end=end)
    photos = sel.update_photos(events)
    base = _base(request)
    body = [sel.update_dict(e, base=base, photo_id=photos.get(e.pk)) for e in events]
    return respond(fmt, body, root="service_request_updates", item="request_update")


def _float(request: HttpRequest, name: str) -> float | None:
    raw = request.POST.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise Open311Error(400, "invalid_coordinates", f"{name} 应为数字") from None


def _client(request: HttpRequest) -> Open311Client:
    client = open311_client_authenticate(request.POST.get("api_key", "").strip())
    if client is None:
        raise Open311Error(403, "invalid_api_key", "api_key 无效或已停用")
    return client


def _update_create(request: HttpRequest, fmt: str) -> HttpResponse:
    """FixMyStreet's POST servicerequestupdates: a client's system adds a progress update to a request."""
    client = _client(request)
    service_request_id = request.POST.get("service_request_id", "").strip()
    if not service_request_id:
        raise Open311Error(400, "service_request_id_required", "请提供 service_request_id")
    description = request.POST.get("description", "").strip()
    if not description:
        raise Open311Error(400, "description_required", "请提供 description(办理进展)")
    # FixMyStreet sends its own id as update_id, or as update_id_ext with its "extended updates".
    update_id = (request.POST.get("update_id") or request.POST.get("update_id_ext") or "").strip()
    if len(update_id) > 64:
        raise Open311Error(400, "invalid_update_id", "update_id 不能超过64个字符")
    status = request.POST.get("status", "").strip().lower()
    if len(status) > 40:
        raise Open311Error(400, "invalid_status", "status 不能超过40个字符")
    # media_url is ignored, not refused: FixMyStreet sends it with every update that has a photo, and the
    # update matters more than the picture. We never fetch from other hosts (a URL could point anywhere,
    # inside our network too); photos come as ``media`` uploads.
    photos = photos_read(request.FILES.getlist("media"))
    result = open311_update_post(
        client=client,
        service_request_id=service_request_id,
        description=description,
        update_id=update_id,
        status=status,
        updated_datetime=_date(request, "updated_datetime", post=True),
        photos=photos,
    )
    body = [{"update_id": str(result.event.pk)}]
    return respond(
        fmt,
        body,
        root="service_request_updates",
        item="request_update",
        status=201 if result.created else 200,
    )


def _building_id(request: HttpRequest) -> int | None:
    """``address_id``: our building id (places, level building), as the QR code's channel passes it."""
    raw = request.POST.get("address_id", "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_ADDRESS_ID_DIGITS:
        raise Open311Error(400, "unknown_address_id", f"address_id {raw[:40]} 不是已登记的楼栋编号")
    return int(raw)


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    """POST requests. Fields we do not take are ignored: ``jurisdiction_id`` (one jurisdiction), ``email``,
    ``device_id``, ``account_id``, ``attribute[]`` and ``media_url`` (we never fetch from other hosts; photos
    come as ``media`` uploads)."""
    client = _client(request)
    code = request.POST.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code_required", "请提供 service_code")
    service = sel.service_get(code)
    if service is None:
        raise Open311Error(404, "unknown_service", f"服务代码 {code} 不存在")
    lat, lng = _float(request, "lat"), _float(request, "long")
    address = request.POST.get("address_string", "").strip()
    building_id = _building_id(request)
    if lat is None and lng is None and not address and building_id is None:
        raise Open311Error(400, "location_required", "请提供 lat/long、address_string 或 address_id")
    photos = photos_read(request.FILES.getlist("media"))
    name = " ".join(p for p in (request.POST.get("last_name", ""), request.POST.get("first_name", "")) if p)
    try:
        result = case_submit(
            text=request.POST.get("description", "").strip(),
            channel=Channel.OPEN311,
            category_id=service.pk,
            lat=lat,
            lng=lng,
            address=address,
            building_id=building_id,
            contact_name=name.strip(),
            contact_phone=request.POST.get("phone", "").strip(),
            photos=photos,
            idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
            client_id=str(client.pk),
        )
    except CaseError as exc:
        if exc.code == "unknown_building":  # named after the parameter the client sent
            raise Open311Error(
                400, "unknown_address_id", f"address_id {building_id} 不是已登记的楼栋编号"
            ) from None
        raise
    case = result.case
    body = [
        {
            "service_request_id": case.number,
            "token": token_for(case.pk),
            "service_notice": "",
            "account_id": None,
        }
    ]
    return respond(fmt, body, root="service_requests", item="request", status=201 if result.created else 200)


@_spec()
def unknown(request: HttpRequest, *, fmt: str) -> HttpResponse:
    raise Open311Error(404, "unknown_endpoint", "没有这个接口,请参阅 discovery.json")


@csrf_exempt  # as every endpoint here (see _spec): a POST to a wrong path gets the 404, not the CSRF page
def unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    """Any other path under /open311/v2/ (a wrong suffix, a trailing slash): the spec's 404, in XML when
    the path ends in .xml, else in JSON."""
    return unknown(request, fmt="xml" if rest.lower().endswith(".xml") else "json")
