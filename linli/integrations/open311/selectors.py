"""Reads behind the Open311 endpoints: services (category leaves), public requests and their updates.

What a request shows is decided here once (``request_dict``): no reporter, no contact, no resident's own
words (they may name people or phone numbers: the description is the category, as on the 公示 page), a
point rounded to ~100 m, and photos only where marked public. Tip-offs (举报) never appear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from linli.cases.models import (
    SOLVED_STATUSES,
    STATUS_INFO,
    Case,
    CaseAttachment,
    CaseEvent,
    CaseKind,
    Category,
    StatusCategory,
)
from linli.cases.selectors import public_round
from linli.cases.transitions import TRANSITIONS
from linli.security.masking import mask_text

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50
# Deepest page served: a million rows at the largest page size, far past a 90-day window's cases, and an
# offset every database takes (an unbounded page overflowed the offset: a 500).
MAX_PAGE = 10_000
# GeoReport v2: without a date range only the last 90 days are returned, and a range may not span more.
MAX_DATE_RANGE = timedelta(days=90)

# Our status categories → the spec's two statuses.
SPEC_STATUS = {StatusCategory.OPEN: "open", StatusCategory.DONE: "closed", StatusCategory.CANCELLED: "closed"}
STATUS_CATEGORIES = {
    "open": [StatusCategory.OPEN],
    "closed": [StatusCategory.DONE, StatusCategory.CANCELLED],
}


def services_list() -> list[Category]:
    """Active leaves (categories without active children), with their group for ``group``."""
    rows = list(Category.objects.filter(is_active=True).select_related("parent").order_by("sort", "code"))
    parents = {c.parent_id for c in rows if c.parent_id is not None}
    return [c for c in rows if c.pk not in parents and (c.parent is None or c.parent.is_active)]


def service_get(code: str) -> Category | None:
    return next((c for c in services_list() if c.code == code), None)


def service_dict(c: Category) -> dict[str, Any]:
    return {
        "service_code": c.code,
        "service_name": c.name,
        "description": c.description or c.name,
        "metadata": False,  # no extra attributes: services/{code} answers an empty list
        "type": "realtime",
        "keywords": "",
        "group": c.parent.name if c.parent else "",
    }


def _label(action: str) -> str:
    t = TRANSITIONS.get(action)
    return str(t.label) if t is not None else action


def _public() -> QuerySet[Case]:
    return Case.objects.filter(is_public=True).exclude(kind=CaseKind.TIP_OFF)


def _with_related(qs: QuerySet[Case]) -> QuerySet[Case]:
    photos = CaseAttachment.objects.filter(is_public=True).only("id", "case_id").order_by("id")
    return qs.select_related("category", "unit").prefetch_related(
        Prefetch("attachments", queryset=photos, to_attr="public_photos")
    )


class DateRangeError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def date_order_check(start: datetime | None, end: datetime | None) -> None:
    """Both endpoints' rule: an ``end_date`` before the ``start_date`` is refused, not answered with []."""
    if start is not None and end is not None and end < start:
        raise DateRangeError("invalid_date_range", "end_date 不能早于 start_date")


def requests_date_range(
    start: datetime | None, end: datetime | None, *, now: datetime
) -> tuple[datetime, datetime | None]:
    """The window ``GET requests`` searches (``requested_datetime``), as GeoReport v2 sets it.

    No dates: the last 90 days. Only ``start_date``: 90 days from it; only ``end_date``: the 90 days up to
    it. Both: as given, at most 90 days apart (else ``date_range_too_long``), end not before start.
    """
    if start is None and end is None:
        return now - MAX_DATE_RANGE, None
    if start is None:
        assert end is not None
        return end - MAX_DATE_RANGE, end
    if end is None:
        return start, start + MAX_DATE_RANGE
    date_order_check(start, end)
    if end - start > MAX_DATE_RANGE:
        raise DateRangeError("date_range_too_long", "start_date 与 end_date 相隔不能超过90天")
    return start, end


@dataclass(frozen=True)
class RequestFilters:
    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()  # "open" and/or "closed"; empty: both
    page: int = 1  # 1..MAX_PAGE (the view refuses more)
    page_size: int = DEFAULT_PAGE_SIZE


def requests_list(f: RequestFilters) -> list[Case]:
    qs = _public()
    if f.ids:  # the spec: a list of ids overrides every other parameter
        return list(_with_related(qs.filter(number__in=list(f.ids))).order_by("-created_at", "-id"))
    if f.service_codes:
        qs = qs.filter(category__code__in=list(f.service_codes))
    if f.start is not None:
        qs = qs.filter(created_at__gte=f.start)
    if f.end is not None:
        qs = qs.filter(created_at__lte=f.end)
    if f.statuses:
        qs = qs.filter(status_category__in=[c for s in f.statuses for c in STATUS_CATEGORIES[s]])
    size = max(1, min(f.page_size, MAX_PAGE_SIZE))
    offset = (max(f.page, 1) - 1) * size
    return list(_with_related(qs.order_by("-created_at", "-id"))[offset : offset + size])


def request_get(service_request_id: str) -> Case | None:
    return _with_related(_public().filter(number=service_request_id)).first()


def _media_url(case: Case, base: str) -> str:
    photos: Sequence[CaseAttachment] = getattr(case, "public_photos", ())
    if not photos or case.status not in SOLVED_STATUSES:
        return ""  # photos are shown publicly only with a solved, published case (the 公示 rule)
    return base + reverse("cases:public_photo", args=[case.pk, photos[0].pk])


def request_dict(case: Case, *, base: str) -> dict[str, Any]:
    category = case.category
    solved = case.status_category == StatusCategory.DONE
    return {
        "service_request_id": case.number,
        "status": SPEC_STATUS[StatusCategory(case.status_category)],
        "status_notes": mask_text(case.result_text) if solved else case.get_status_display(),
        "service_name": category.name if category else str(CaseKind(case.kind).label),
        "service_code": category.code if category else "",
        "description": category.name if category else str(CaseKind(case.kind).label),
        "agency_responsible": case.unit.name if case.unit else "",
        "service_notice": "",
        "requested_datetime": case.created_at,
        "updated_datetime": case.updated_at,
        "expected_datetime": case.resolve_due_at if case.status_category == StatusCategory.OPEN else None,
        "address": "",  # the resident's address text may identify them; the rounded point says where
        "address_id": "",
        "zipcode": "",
        "lat": public_round(case.lat) if case.lat is not None else None,
        "long": public_round(case.lng) if case.lng is not None else None,
        "media_url": _media_url(case, base),
    }


def updates_list(*, start: datetime, end: datetime | None, limit: int = 1000) -> list[CaseEvent]:
    """FixMyStreet's servicerequestupdates: public steps of public cases since ``start`` (oldest first)."""
    qs = CaseEvent.objects.filter(is_public=True, created_at__gte=start).filter(
        case__in=_public().values("pk")
    )
    if end is not None:
        qs = qs.filter(created_at__lte=end)
    return list(
        qs.exclude(action="submit")
        .select_related("case")
        .only("id", "action", "to_status", "created_at", "case__number", "case__status_category")
        .order_by("created_at", "id")[:limit]
    )


def update_photos(events: Sequence[CaseEvent]) -> dict[int, int]:
    """The first public photo attached to each event (result photos of a resolve, an update's media)."""
    found: dict[int, int] = {}
    rows = (
        CaseAttachment.objects.filter(event_id__in=[e.pk for e in events], is_public=True)
        .order_by("id")
        .values_list("event_id", "id")
    )
    for event_id, photo_id in rows:
        found.setdefault(event_id, photo_id)
    return found


def update_dict(event: CaseEvent, *, base: str, photo_id: int | None = None) -> dict[str, Any]:
    info = STATUS_INFO.get(event.to_status)
    status = SPEC_STATUS[StatusCategory(info.category)] if info else "open"
    media_url = ""
    if photo_id is not None and event.case.status_category == StatusCategory.DONE:
        # The 公示 rule of request_dict: photos only with a solved, published case.
        media_url = base + reverse("cases:public_photo", args=[event.case.pk, photo_id])
    return {
        "update_id": str(event.pk),
        "service_request_id": event.case.number,
        "status": status,
        "updated_datetime": event.created_at,
        "description": _label(event.action),  # the step's name, never its note
        "media_url": media_url,
    }


__all__ = [
    "MAX_DATE_RANGE",
    "MAX_PAGE",
    "MAX_PAGE_SIZE",
    "DateRangeError",
    "RequestFilters",
    "date_order_check",
    "request_dict",
    "request_get",
    "requests_date_range",
    "requests_list",
    "service_dict",
    "service_get",
    "services_list",
    "update_dict",
    "update_photos",
    "updates_list",
]
