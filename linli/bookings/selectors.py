"""Reads of bookings. Staff reads go through ``for_user`` (the scoping helper); residents read their own
rows (the owner rule of the same helper) and the public slot calendar of published stations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.bookings.models import (
    AgencyDetail,
    Appointment,
    AppointmentStatus,
    LoanStatus,
    Outcome,
    Resource,
    ResourceKind,
    RoomBooking,
    RoomBookingStatus,
    ServiceRecord,
    Slot,
    StatusCategory,
    ToolLoan,
)
from linli.catalog.models import ServiceItem
from linli.core.scoping import scope_for
from linli.stations.models import Station

UserLike = User | AnonymousUser

CALENDAR_DAYS = 14


# --- the public calendar ---------------------------------------------------------------------------
def _bookable(now: dt.datetime) -> QuerySet[Slot]:
    """Slots a resident may book: open, in the future, with a place left, at a published station whose
    menu still offers the item."""
    return Slot.objects.filter(
        is_active=True,
        starts_at__gt=now,
        booked__lt=F("capacity"),
        station__is_published=True,
        item__is_active=True,
        station__menu__item=F("item"),
        station__menu__is_active=True,
    )


def stations_with_slots(*, now: dt.datetime | None = None) -> QuerySet[Station]:
    now = now or timezone.now()
    ids = _bookable(now).values("station_id")
    return Station.objects.filter(pk__in=ids).select_related("region").order_by("kind", "code")


def items_with_slots(*, station_id: int, now: dt.datetime | None = None) -> QuerySet[ServiceItem]:
    now = now or timezone.now()
    ids = _bookable(now).filter(station_id=station_id).values("item_id")
    return ServiceItem.objects.filter(pk__in=ids).order_by("sort_order", "code")


def slot_days(*, station_id: int, item_id: int, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The next days with bookable places: [{day, places, slots}] (one grouped query)."""
    now = now or timezone.now()
    last = timezone.localdate(now) + dt.timedelta(days=CALENDAR_DAYS)
    rows = (
        _bookable(now)
        .filter(station_id=station_id, item_id=item_id, day__lte=last)
        .values("day")
        .annotate(places=Sum(F("capacity") - F("booked")), slots=Count("id"))
        .order_by("day")
    )
    return list(rows)


def slots_on_day(
    *, station_id: int, item_id: int, day: dt.date, now: dt.datetime | None = None
) -> QuerySet[Slot]:
    now = now or timezone.now()
    return _bookable(now).filter(station_id=station_id, item_id=item_id, day=day).order_by("starts_at")


def slots_public(
    *, station_id: int, item_id: int, first_day: dt.date, last_day: dt.date, now: dt.datetime | None = None
) -> QuerySet[Slot]:
    """Every future open slot in the range, full ones included (the API shows remaining places)."""
    now = now or timezone.now()
    return Slot.objects.filter(
        station_id=station_id,
        item_id=item_id,
        station__is_published=True,
        is_active=True,
        starts_at__gt=now,
        day__gte=first_day,
        day__lte=last_day,
    ).order_by("starts_at")


# --- a resident's own rows -------------------------------------------------------------------------
def appointments_mine(*, user: UserLike) -> QuerySet[Appointment]:
    if not user.is_authenticated:
        return Appointment.objects.none()
    return (
        Appointment.objects.filter(resident_id=user.pk)
        .select_related("station", "item")
        .order_by("status_category", "-starts_at")
    )


def appointment_for_user(*, user: UserLike, appointment_id: int) -> Appointment | None:
    """The appointment if the user owns it or may see it as staff; None (→ 404) otherwise."""
    return (
        Appointment.objects.for_user(user)
        .select_related("station", "item", "resident", "slot")
        .filter(pk=appointment_id)
        .first()
    )


def agency_mine(*, user: UserLike) -> QuerySet[AgencyDetail]:
    if not user.is_authenticated:
        return AgencyDetail.objects.none()
    return (
        AgencyDetail.objects.filter(Q(on_behalf_of_id=user.pk) | Q(requested_by_id=user.pk))
        .select_related("item", "station", "case")
        .prefetch_related("events")
        .order_by("-created_at", "-id")
    )


def room_bookings_mine(*, user: UserLike) -> QuerySet[RoomBooking]:
    if not user.is_authenticated:
        return RoomBooking.objects.none()
    return (
        RoomBooking.objects.filter(booked_by_id=user.pk)
        .select_related("resource__station")
        .order_by("-starts_at")
    )


def resources_public(*, station_id: int, kind: str = "") -> QuerySet[Resource]:
    qs = Resource.objects.filter(station_id=station_id, station__is_published=True, is_active=True)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("kind", "name")


def room_busy(*, resource_id: int, first_day: dt.date, last_day: dt.date) -> QuerySet[RoomBooking]:
    """When a room is taken (times only, no names: it is shown to anyone choosing a time)."""
    return RoomBooking.objects.filter(
        resource_id=resource_id,
        status__in=[RoomBookingStatus.PENDING, RoomBookingStatus.CONFIRMED],
        starts_at__date__gte=first_day,
        starts_at__date__lte=last_day,
    ).order_by("starts_at")


# --- staff -----------------------------------------------------------------------------------------
def _manage_q(user: UserLike, field: str = "region_path") -> Q | None:
    """Rows under the regions where the user holds ``bookings.manage`` (Q() = everywhere; None = nowhere)."""
    scope = scope_for(user, Capability.BOOKINGS_MANAGE)
    if scope.is_global:
        return Q()
    if not scope.region_paths:
        return None
    q = Q()
    for path in scope.region_paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


def desk_stations_for_user(*, user: UserLike) -> QuerySet[Station]:
    """Stations whose desk the user may run (``bookings.manage`` in their regions)."""
    q = _manage_q(user)
    if q is None:
        return Station.objects.none()
    return Station.objects.filter(q).order_by("region_path", "code")


@dataclass(frozen=True)
class Queue:
    waiting: list[Appointment]  # checked in, not yet served: the queue, by number
    expected: list[Appointment]  # booked for today, not arrived yet
    done: int
    no_show: int


def queue_for_station(*, user: UserLike, station_id: int, day: dt.date) -> Queue:
    rows = list(
        Appointment.objects.for_user(user)
        .filter(station_id=station_id, day=day)
        .select_related("item", "resident", "station")
        .order_by("starts_at", "id")
    )
    waiting = sorted(
        (a for a in rows if a.status == AppointmentStatus.CHECKED_IN), key=lambda a: a.queue_number
    )
    return Queue(
        waiting=waiting,
        expected=[a for a in rows if a.status == AppointmentStatus.BOOKED],
        done=sum(1 for a in rows if a.status == AppointmentStatus.DONE),
        no_show=sum(1 for a in rows if a.status == AppointmentStatus.NO_SHOW),
    )


def records_for_station(*, user: UserLike, station_id: int, day: dt.date) -> QuerySet[ServiceRecord]:
    return (
        ServiceRecord.objects.for_user(user)
        .filter(station_id=station_id, day=day)
        .select_related("item", "staff", "resident")
        .order_by("-served_at", "-id")
    )


def records_for_user(*, user: UserLike, since: dt.date, until: dt.date) -> QuerySet[ServiceRecord]:
    return (
        ServiceRecord.objects.for_user(user)
        .filter(day__gte=since, day__lte=until)
        .select_related("item", "staff", "resident", "station")
        .order_by("-served_at", "-id")
    )


@dataclass(frozen=True)
class Workload:
    by_staff: list[dict[str, Any]]
    by_item: list[dict[str, Any]]
    total: int


def workload_for_user(
    *, user: UserLike, since: dt.date, until: dt.date, station_id: int | None = None
) -> Workload:
    """Encounters per staff member and per item in a period (two grouped queries), for ratings later."""
    qs = ServiceRecord.objects.for_user(user).filter(day__gte=since, day__lte=until)
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    measures = {
        "count": Count("id"),
        "minutes": Sum("minutes"),
        "completed": Count("id", filter=Q(outcome=Outcome.COMPLETED)),
    }
    by_staff = list(
        qs.values("staff_id", "staff__display_name", "staff__username")
        .annotate(**measures)
        .order_by("-count", "staff_id")
    )
    by_item = list(qs.values("item_id", "item__name").annotate(**measures).order_by("-count", "item_id"))
    return Workload(by_staff=by_staff, by_item=by_item, total=sum(r["count"] for r in by_staff))


def agency_for_user(*, user: UserLike, open_only: bool = False) -> QuerySet[AgencyDetail]:
    qs = AgencyDetail.objects.for_user(user).select_related(
        "item", "station", "case", "requested_by", "on_behalf_of"
    )
    if open_only:
        qs = qs.exclude(step="result_returned")
    return qs.order_by("-created_at", "-id")


def agency_detail_for_user(*, user: UserLike, detail_id: int) -> AgencyDetail | None:
    return agency_for_user(user=user).prefetch_related("events__actor").filter(pk=detail_id).first()


def room_bookings_pending_for_user(*, user: UserLike) -> QuerySet[RoomBooking]:
    """Pending bookings the user may decide on (``bookings.manage`` over the room's station)."""
    q = _manage_q(user)
    if q is None:
        return RoomBooking.objects.none()
    return (
        RoomBooking.objects.filter(q, status=RoomBookingStatus.PENDING)
        .select_related("resource__station", "booked_by")
        .order_by("starts_at")
    )


def resources_for_user(*, user: UserLike, kind: str = "") -> QuerySet[Resource]:
    qs = Resource.objects.for_user(user).select_related("station")
    if kind in ResourceKind.values:
        qs = qs.filter(kind=kind)
    return qs.order_by("station__code", "kind", "name")


def loans_open_for_user(*, user: UserLike) -> QuerySet[ToolLoan]:
    return (
        ToolLoan.objects.for_user(user)
        .filter(status=LoanStatus.LENT)
        .select_related("resource__station", "borrower")
        .order_by("due_at")
    )


def open_count(qs: QuerySet[Any]) -> int:
    return qs.filter(status_category=StatusCategory.OPEN).count()
