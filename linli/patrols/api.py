"""The patrols JSON API under /api/patrols/: start, upload points, end, report a problem, read, coverage.

The phone page (``static/patrols/recorder.js``) drives it: every write is safe to replay from its
offline queue (``client_key`` for the start, per-fix ``seq`` for points, an idempotency key for problems).
"""

# No "from __future__ import annotations": django-ninja resolves Query[...] / Form[...] at runtime.
import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema
from ninja import Status as HttpStatus
from ninja.files import UploadedFile
from ninja.pagination import paginate

from linli.accounts.models import User
from linli.core.api import ApiError, CappedPagination, ErrorOut, session_or_token
from linli.patrols import selectors
from linli.patrols import services as svc
from linli.patrols.errors import PatrolError
from linli.patrols.models import Patrol
from linli.patrols.presenters import patrol_dict, track_dict

router = Router(tags=["patrols"])
MAX_UPLOAD = 10 * 1024 * 1024


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _raise(exc: PatrolError) -> None:
    raise ApiError(exc.code, exc.message, status=exc.status, details=exc.details) from exc


def _from_ms(value: int | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ApiError("invalid_timestamp", "时间戳不正确(应为毫秒)") from exc


# --- schemas --------------------------------------------------------------------------------------
class PatrolOut(Schema):
    id: int
    status: str
    status_label: str
    worker: str
    grid_id: int
    grid: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    duration_s: int
    distance_m: float
    point_count: int
    flagged_count: int
    building_count: int
    track_purged: bool


class StartIn(Schema):
    client_key: str = Field(
        ..., min_length=8, max_length=64, description="手机端生成的本次巡查编号(重试时不变)"
    )
    grid_id: int | None = Field(None, description="负责多个网格时选择本次巡查的网格")
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    started_at_ms: int | None = Field(None, ge=0, description="离线开始时手机记录的开始时间(毫秒时间戳)")


class PointSchema(Schema):
    seq: int = Field(..., ge=0, description="手机端本次巡查内的定位点序号")
    t: int = Field(..., ge=0, description="定位时间,毫秒时间戳(Geolocation position.timestamp)")
    lat: float
    lng: float
    accuracy: float | None = Field(None, description="定位精度(米)")


class UploadIn(Schema):
    points: list[PointSchema] = Field(..., max_length=svc.MAX_BATCH)


class RejectedOut(Schema):
    seq: int
    code: str
    message: str


class UploadOut(Schema):
    patrol_id: int
    received: int
    stored: int
    duplicates: int
    rejected: list[RejectedOut]


class EndIn(Schema):
    ended_at_ms: int | None = Field(None, ge=0)


class ProblemIn(Schema):
    text: str = Field(..., max_length=2000)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    category_id: int | None = None
    kind: str | None = None
    address: str = Field("", max_length=200)
    idempotency_key: str = Field("", max_length=64)


class ProblemOut(Schema):
    case_id: int
    number: str
    created: bool


class PatrolCoverageOut(Schema):  # not CoverageOut: stations has one; OpenAPI names must be unique
    grid_id: int
    grid: str
    grid_code: str
    community: str
    buildings: int
    passed: int
    percent: float | None
    patrols: int
    distance_m: float


class CoverageIn(Schema):
    week: dt.date | None = Field(None, description="该周任意一天(默认本周)")


# --- endpoints ------------------------------------------------------------------------------------
@router.post(
    "/",
    response={200: PatrolOut, 201: PatrolOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
    url_name="patrols_root",
)
def start(request: HttpRequest, payload: StartIn) -> Any:
    """开始巡查. Replaying the same ``client_key`` returns the same patrol (200 instead of 201)."""
    try:
        result = svc.patrol_start(
            worker=_user(request),
            client_key=payload.client_key,
            grid_id=payload.grid_id,
            lat=payload.lat,
            lng=payload.lng,
            started_at=_from_ms(payload.started_at_ms),
        )
    except PatrolError as exc:
        _raise(exc)
    patrol = Patrol.objects.select_related("worker", "grid").get(pk=result.patrol.pk)
    return HttpStatus(201 if result.created else 200, patrol_dict(patrol))


@router.get("/", response=list[PatrolOut], auth=session_or_token, url_name="patrols_root")
@paginate(CappedPagination)
def patrol_list(request: HttpRequest, mine: bool = False) -> Any:
    """Patrols the user may see, newest first (``mine=true``: only their own)."""
    qs = selectors.patrols_for_user(_user(request))
    if mine:
        qs = qs.filter(worker=_user(request))
    return _Presented(qs)


class _Presented:
    """Lazily maps a queryset page to dicts, so the paginator slices before serialising."""

    def __init__(self, qs: Any) -> None:
        self.qs = qs

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return [patrol_dict(p) for p in self.qs[item]]

    def count(self) -> int:
        return int(self.qs.count())


@router.get("/coverage", response=list[PatrolCoverageOut], auth=session_or_token, url_name="patrols_coverage")
def coverage(request: HttpRequest, params: Query[CoverageIn]) -> Any:
    """每周巡查覆盖率: per grid in scope, the share of its buildings passed by patrols that week."""
    week = params.week or timezone.localdate()
    return [
        {
            "grid_id": c.grid_id,
            "grid": c.grid_name,
            "grid_code": c.grid_code,
            "community": c.community_name,
            "buildings": c.buildings,
            "passed": c.passed,
            "percent": c.percent,
            "patrols": c.patrols,
            "distance_m": c.distance_m,
        }
        for c in selectors.patrol_coverage_week(user=_user(request), week_start=week)
    ]


@router.get(
    "/{int:patrol_id}",
    response={200: dict[str, Any], 404: ErrorOut},
    auth=session_or_token,
    url_name="patrols_detail",
)
def detail(request: HttpRequest, patrol_id: int) -> Any:
    """One patrol with its track (GeoJSON), buildings passed, problems reported and visits made.
    Reading another worker's track is audited."""
    view = selectors.patrol_track_read(viewer=_user(request), patrol_id=patrol_id, request=request)
    return track_dict(view)


@router.post(
    "/{int:patrol_id}/points",
    response={200: UploadOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def points(request: HttpRequest, patrol_id: int, payload: UploadIn) -> Any:
    """Upload a batch of fixes. Idempotent and order-free; refused fixes are listed with a code."""
    try:
        result = svc.patrol_points_upload(
            patrol_id=patrol_id,
            worker=_user(request),
            points=[
                svc.PointIn(seq=p.seq, at=_from_ms(p.t), lat=p.lat, lng=p.lng, accuracy_m=p.accuracy)  # type: ignore[arg-type]
                for p in payload.points
            ],
        )
    except PatrolError as exc:
        _raise(exc)
    return {
        "patrol_id": patrol_id,
        "received": result.received,
        "stored": result.stored,
        "duplicates": result.duplicates,
        "rejected": [{"seq": r.seq, "code": r.code, "message": r.message} for r in result.rejected],
    }


@router.post(
    "/{int:patrol_id}/end",
    response={200: PatrolOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def end(request: HttpRequest, patrol_id: int, payload: EndIn) -> Any:
    """结束巡查 (a replay of an ended patrol answers it unchanged)."""
    try:
        patrol = svc.patrol_end(
            patrol_id=patrol_id, worker=_user(request), ended_at=_from_ms(payload.ended_at_ms)
        )
    except PatrolError as exc:
        _raise(exc)
    return patrol_dict(Patrol.objects.select_related("worker", "grid").get(pk=patrol.pk))


@router.post(
    "/{int:patrol_id}/problems",
    response={200: ProblemOut, 201: ProblemOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def problem(
    request: HttpRequest,
    patrol_id: int,
    payload: Form[ProblemIn],
    photos: File[list[UploadedFile]] | None = None,
) -> Any:
    """上报巡查发现的问题: files a case (channel grid_patrol) at the current location, linked to the patrol."""
    images = []
    for f in photos or []:
        if f.size is not None and f.size > MAX_UPLOAD:
            raise ApiError("image_too_big", "图片不能超过10MB")
        images.append(f.read(MAX_UPLOAD + 1))
    key = request.headers.get("Idempotency-Key", "") or payload.idempotency_key
    try:
        result = svc.patrol_problem_report(
            patrol_id=patrol_id,
            worker=_user(request),
            text=payload.text,
            lat=payload.lat,
            lng=payload.lng,
            category_id=payload.category_id,
            kind=payload.kind,
            address=payload.address,
            photos=images,
            idempotency_key=key,
        )
    except PatrolError as exc:
        _raise(exc)
    body = {"case_id": result.case.pk, "number": result.case.number, "created": result.created}
    return HttpStatus(201 if result.created else 200, body)
