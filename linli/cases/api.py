"""The thin JSON API of the closed loop under /api/cases/: submit, my cases, queues, detail, actions.

Submission and actions take form fields (``multipart/form-data`` when photos come along, or
``application/x-www-form-urlencoded``); every answer is JSON. Errors are ``{code, message}``.
An ``Idempotency-Key`` header (or the ``idempotency_key`` field) makes a retried submission return the
first case (200 instead of 201).
"""

# No "from __future__ import annotations": django-ninja resolves Query[...] / Form[...] at runtime.
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import File, Form, Query, Router
from ninja import Status as HttpStatus
from ninja.files import UploadedFile
from ninja.pagination import paginate

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.cases import selectors
from linli.cases import services as svc
from linli.cases.errors import CaseError
from linli.cases.forms import photos_read
from linli.cases.models import (
    RESIDENT_CHANNELS,
    STAFF_INTAKE_CHANNELS,
    Case,
    CaseAttachment,
    Status,
    StatusCategory,
)
from linli.cases.permissions import case_may_view
from linli.cases.rules_cache import case_rules
from linli.cases.schemas import (
    ActionIn,
    CaseDetailOut,
    CaseOut,
    CategoryOut,
    FollowOut,
    NearbyOut,
    OwnCaseOut,
    PublicOut,
    QueueIn,
    SharesOut,
    SubmitIn,
    SubmitOut,
    SupervisionStatsOut,
)
from linli.core.api import (
    ApiError,
    CappedPagination,
    ErrorOut,
    form_input,
    form_openapi,
    schema_input,
    session_or_token,
)
from linli.core.scoping import scope_for
from linli.places.locator import get_locator
from linli.places.models import Region
from linli.security.ratelimit import api_rate_limit, rate_limit_enforce
from linli.security.uploads import serve_upload

router = Router(tags=["cases"])


def _raise(exc: CaseError) -> None:
    raise ApiError(exc.code, exc.message, status=exc.status, details=exc.details) from exc


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- endpoints ------------------------------------------------------------------------------------
@router.get("/categories", response=list[CategoryOut], auth=None)
@api_rate_limit("public_api")  # public and anonymous: bounded per client IP (CFG-2)
def categories(request: HttpRequest) -> Any:
    """The active category tree: groups with their leaves (leaf codes are the Open311 service codes)."""
    return selectors.categories_tree()


def _nearby(case: Case) -> list[dict[str, Any]]:
    if case.lat is None or case.lng is None:
        return []
    found = selectors.cases_nearby_similar(lat=case.lat, lng=case.lng, category_id=case.category_id, limit=6)
    return [_nearby_item(c, d) for c, d in found if c.pk != case.pk][:5]


def _nearby_item(c: Case, d: float) -> dict[str, Any]:
    """One "me too" candidate as anyone may see it: the category as title, the distance from the public point."""
    return {
        "id": c.pk,
        "number": c.number,
        "title": selectors.public_title(c),
        "status": c.status,
        "distance_m": d,
        "follower_count": c.follower_count,
    }


@router.post(
    "/",
    response={200: SubmitOut, 201: SubmitOut, 400: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    auth=session_or_token,
    openapi_extra=form_openapi(
        SubmitIn, files={"photos": "up to 9 photos (JPEG, PNG or HEIC, ≤ 10 MB each)"}
    ),
)
def submit(request: HttpRequest) -> Any:
    """上报: a resident reports for themself; staff with cases.intake file for someone (代客).

    The form is read by ``form_input`` (the busiest write of the platform; ninja's ``Form[...]`` and
    ``File[...]`` parameters validate the same fields through a generated wrapper model, at several times
    the cost); the documented body is the same ``SubmitIn`` with ``photos``.
    """
    rate_limit_enforce(request, rule="case_submit", key="user_or_ip")  # CFG-2, as the report page
    payload = form_input(SubmitIn, request)
    photos = request.FILES.getlist("photos")
    user = _user(request)
    key = request.headers.get("Idempotency-Key", "") or payload.idempotency_key
    if payload.channel in STAFF_INTAKE_CHANNELS:
        reporter, filed_by = None, user
    elif payload.channel in RESIDENT_CHANNELS:
        reporter, filed_by = user, None
    else:
        raise ApiError("invalid_channel", "该渠道不能通过此接口提交", status=400)
    try:
        result = svc.case_submit(
            text=payload.text,
            channel=payload.channel,
            reporter=reporter,
            filed_by=filed_by,
            kind=payload.kind,
            category_id=payload.category_id,
            title=payload.title,
            lat=payload.lat,
            lng=payload.lng,
            address=payload.address,
            building_id=payload.building_id,
            community_id=payload.community_id,
            district_id=payload.district_id,
            contact_name=payload.contact_name,
            contact_phone=payload.contact_phone,
            photos=photos_read(photos),
            is_public=payload.is_public,
            idempotency_key=key,
        )
    except CaseError as exc:
        _raise(exc)
    # "Me too" is offered before submitting (GET /nearby, the report page); here only when asked for.
    similar = _nearby(result.case) if payload.with_similar else []
    case = schema_input(CaseOut, result.case, given=_names(result.case))
    body = {"case": case, "created": result.created, "similar": similar}
    # Validated here from plain values (masking and all); ninja answers a validated model as it is.
    return HttpStatus(201 if result.created else 200, SubmitOut.model_validate(body))


def _names(case: Case) -> dict[str, str | None]:
    """``CaseOut``'s community, grid and unit names (by their aliases) from the locator's and the case
    rules' snapshots (no query), or where they do not know one (a community without grids) one joined read."""
    locator, rules = get_locator(), case_rules()
    community = locator.community_names.get(case.community_id) if case.community_id else None
    grid = locator.grid_names.get(case.grid_id) if case.grid_id else None
    unit = rules.unit_names.get(case.unit_id) if case.unit_id else None
    named = ((case.community_id, community), (case.grid_id, grid), (case.unit_id, unit))
    if any(name is None for pk, name in named if pk is not None):
        community, grid, unit = (
            Case.objects.filter(pk=case.pk).values_list("community__name", "grid__name", "unit__name").get()
        )
    return {"community.name": community, "grid.name": grid, "unit.name": unit}


@router.get("/mine", response=list[OwnCaseOut], auth=session_or_token)
@paginate(CappedPagination)
def mine(request: HttpRequest) -> Any:
    """我的诉求: the cases I reported, newest first."""
    return selectors.cases_mine(_user(request)).select_related("community", "grid", "unit", "assignee")


@router.get("/queue", response=list[CaseOut], auth=session_or_token)
@paginate(CappedPagination)
def queue(request: HttpRequest, params: Query[QueueIn]) -> Any:
    """Staff work queues by role (dispatch, handle, review) with filters; only cases in the user's scope."""
    status = tuple(s for s in params.status.split(",") if s in Status.values)
    filters = selectors.QueueFilters(
        queue=params.queue,
        status=status,
        status_category=params.status_category if params.status_category in StatusCategory.values else "",
        level=params.level,
        deadline=params.deadline,
        overdue=params.overdue,
        warned=params.warned,
        category_id=params.category_id,
        grid_id=params.grid_id,
        unit_id=params.unit_id,
        channel=params.channel,
        query=params.q,
    )
    return selectors.case_queue_for_user(_user(request), filters)


@router.get("/public", response=list[PublicOut], auth=None)
@api_rate_limit("public_api")
@paginate(CappedPagination)
def public(request: HttpRequest, community_id: int | None = None, category_id: int | None = None) -> Any:
    """公示: solved cases marked public, without personal data."""
    qs = selectors.cases_public(community_id=community_id, category_id=category_id)
    return _PublicList(qs)


class _PublicList:
    """Lazily maps a queryset page to public dicts, so the paginator slices before serialising."""

    def __init__(self, qs: Any) -> None:
        self.qs = qs

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return [selectors.case_public_dict(c) for c in self.qs[item]]

    def count(self) -> int:
        return int(self.qs.count())


@router.get("/nearby", response=list[NearbyOut], auth=session_or_token)
def nearby(
    request: HttpRequest,
    lat: float = Query(..., ge=-90, le=90),
    lng: float = Query(..., ge=-180, le=180),
    category_id: int | None = None,
) -> Any:
    """Open public cases of the category within 100 m (30 days): "me too" instead of a new report."""
    return [
        _nearby_item(c, d)
        for c, d in selectors.cases_nearby_similar(lat=lat, lng=lng, category_id=category_id)
    ]


@router.get("/stats/resolution-levels", response={200: SharesOut, 404: ErrorOut}, auth=session_or_token)
def resolution_levels(request: HttpRequest, region_id: int, start: datetime, end: datetime) -> Any:
    """The 721 figure for a region in the user's scope: shares solved at community, street, district."""
    region = _region_in_scope(_user(request), region_id)
    shares = selectors.resolution_level_shares(region_path=region.path, start=start, end=end)
    return {"total": shares.total, "by_level": shares.by_level, "shares_721": shares.shares_721}


def _region_in_scope(user: User, region_id: int) -> Region:
    region = Region.objects.filter(pk=region_id).first()
    scope = scope_for(user, Capability.CASES_VIEW)
    if region is None or not (scope.is_global or any(region.path.startswith(p) for p in scope.region_paths)):
        raise Http404
    return region


@router.get("/stats/supervision", response={200: SupervisionStatsOut, 404: ErrorOut}, auth=session_or_token)
def supervision(request: HttpRequest, region_id: int, start: datetime, end: datetime) -> Any:
    """督办 figures for a region in the user's scope: flags by urgency and unit, the flagged cases now."""
    region = _region_in_scope(_user(request), region_id)
    stats = selectors.supervision_stats(region_path=region.path, start=start, end=end)
    return {
        "supervisions": stats.supervisions,
        "by_urgency": stats.by_urgency,
        "cases": stats.cases,
        "cases_solved": stats.cases_solved,
        "cases_open": stats.cases_open,
        "by_unit": [{"unit": u, "supervisions": n, "cases": c} for u, n, c in stats.by_unit],
    }


def _detail(user: User, case: Case) -> dict[str, Any]:
    return {
        "case": case,
        "timeline": selectors.case_timeline(case, user),
        "actions": selectors.case_actions_for_user(user, case),
        "attachments": [a for a in case.attachments.all() if case_may_view(user, case) or a.is_public],
    }


@router.get("/{int:case_id}", response={200: CaseDetailOut, 404: ErrorOut}, auth=session_or_token)
def detail(request: HttpRequest, case_id: int) -> Any:
    """One case with its timeline (as this user may read it) and the actions this user may take now."""
    user = _user(request)
    case = selectors.case_detail_for_user(user, case_id)
    if case is None:
        raise Http404
    return _detail(user, case)


@router.get("/{int:case_id}/attachments/{int:attachment_id}", auth=session_or_token, response={404: ErrorOut})
def attachment(request: HttpRequest, case_id: int, attachment_id: int) -> Any:
    """A photo, only after the same check as the case (public photos of public solved cases: anyone signed in)."""
    user = _user(request)
    row = CaseAttachment.objects.select_related("case").filter(pk=attachment_id, case_id=case_id).first()
    if row is None:
        raise Http404
    if not (selectors.attachment_is_public(row) or case_may_view(user, row.case)):
        raise Http404
    return serve_upload(request, row.file.name, allowed=True)


Action = Callable[[int, User, ActionIn, list[bytes]], Any]

ACTIONS: dict[str, Action] = {
    "triage": lambda cid, u, p, f: svc.case_triage(
        case_id=cid,
        actor=u,
        kind=p.kind,
        category_id=p.category_id,
        unit_id=p.unit_id,
        community_id=p.community_id,
        building_id=p.building_id,
        note=p.note,
    ),
    "assign": lambda cid, u, p, f: svc.case_assign(
        case_id=cid,
        actor=u,
        unit_id=p.unit_id,
        assignee_id=p.assignee_id,
        clear_unit=p.clear_unit,
        kind=p.kind,
        category_id=p.category_id,
        note=p.note,
    ),
    "reassign": lambda cid, u, p, f: svc.case_reassign(
        case_id=cid,
        actor=u,
        unit_id=p.unit_id,
        assignee_id=p.assignee_id,
        clear_unit=p.clear_unit,
        note=p.note,
    ),
    "reject": lambda cid, u, p, f: svc.case_reject(
        case_id=cid,
        actor=u,
        note=p.note,
        rejected_to_unit_id=p.rejected_to_unit_id,
        rejected_to_text=p.rejected_to_text,
    ),
    "merge": lambda cid, u, p, f: svc.case_merge(
        case_id=cid, actor=u, duplicate_of_id=p.duplicate_of_id or 0, note=p.note
    ),
    "answer": lambda cid, u, p, f: svc.case_answer(
        case_id=cid, actor=u, result_text=p.result_text, photos=f, photos_public=p.photos_public
    ),
    "accept": lambda cid, u, p, f: svc.case_accept(case_id=cid, actor=u, note=p.note),
    "return": lambda cid, u, p, f: svc.case_return(case_id=cid, actor=u, note=p.note),
    "resolve": lambda cid, u, p, f: svc.case_resolve(
        case_id=cid, actor=u, result_text=p.result_text, photos=f, photos_public=p.photos_public
    ),
    "escalate": lambda cid, u, p, f: svc.case_escalate(case_id=cid, actor=u, note=p.note),
    "supervise": lambda cid, u, p, f: svc.case_supervise(
        case_id=cid, actor=u, note=p.note, urgency=p.urgency
    ),
    "withdraw": lambda cid, u, p, f: svc.case_withdraw(case_id=cid, actor=u, note=p.note),
    "rate": lambda cid, u, p, f: svc.case_rate(case_id=cid, actor=u, rating=p.rating, comment=p.note),
    "review": lambda cid, u, p, f: svc.case_review(case_id=cid, actor=u, decision=p.decision, note=p.note),
    "close_unresolved": lambda cid, u, p, f: svc.case_close_unresolved(case_id=cid, actor=u, note=p.note),
    "publish": lambda cid, u, p, f: svc.case_publish(case_id=cid, actor=u, public=True, note=p.note),
    "unpublish": lambda cid, u, p, f: svc.case_publish(case_id=cid, actor=u, public=False, note=p.note),
    "comment": lambda cid, u, p, f: svc.case_comment(case_id=cid, actor=u, note=p.note),
    "caller_follow": lambda cid, u, p, f: svc.case_caller_add(case_id=cid, actor=u, phone=p.phone),
}


@router.post(
    "/{int:case_id}/actions/{action}",
    response={200: CaseDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    auth=session_or_token,
)
def act(
    request: HttpRequest,
    case_id: int,
    action: str,
    payload: Form[ActionIn],
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    """Perform one workflow action. ``rate`` takes ``rating`` (satisfied/basic/unsatisfied) and the
    comment in ``note``; ``review`` takes ``decision`` (uphold/redo/unresolved); ``caller_follow`` (代客)
    takes the caller's mobile in ``phone``."""
    user = _user(request)
    handler = ACTIONS.get(action)
    if handler is None:
        raise ApiError("unknown_action", f"未知的操作:{action}", status=400)
    try:
        handler(case_id, user, payload, photos_read(photos or []))
    except CaseError as exc:
        _raise(exc)
    case = selectors.case_detail_for_user(user, case_id)
    if case is None:  # the action moved it out of the actor's scope (e.g. 退单 by the unit)
        return {"case": None, "timeline": [], "actions": [], "attachments": []}
    return _detail(user, case)


@router.post(
    "/{int:case_id}/follow", response={200: FollowOut, 404: ErrorOut, 409: ErrorOut}, auth=session_or_token
)
def follow(request: HttpRequest, case_id: int) -> Any:
    """ "我也遇到": follow a public open case instead of reporting it again (idempotent)."""
    try:
        result = svc.case_follow(case_id=case_id, user=_user(request))
    except CaseError as exc:
        _raise(exc)
    c = result.case
    return {
        "id": c.pk,
        "number": c.number,
        "title": selectors.public_title(c),
        "status": c.status,
        "follower_count": c.follower_count,
        "created": result.created,
    }
