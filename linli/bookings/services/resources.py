"""Rooms and tools (一室多用, 小修小补): define them, book a room (with approval when required), lend and
take back tools, and the overdue sweep.

A room booking checks the room's rules first (length, how far ahead, inside opening hours, head count),
then, in one transaction: locks the person (per-person limit) and the room, looks for an overlapping
booking that holds the room, inserts. On PostgreSQL the exclusion constraint of migration 0002 refuses an
overlap even if two transactions got past the query; on SQLite the IMMEDIATE transaction holds the write
lock from the query to the insert. Tools are counted: ``on_loan`` moves by compare-and-set
(``on_loan + n <= quantity``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from linli.accounts.services import AccountError, phone_normalize
from linli.bookings import notify
from linli.bookings.errors import BookingError, not_found
from linli.bookings.models import (
    HOLDS_ROOM,
    LoanStatus,
    Resource,
    ResourceKind,
    RoomBooking,
    RoomBookingEvent,
    RoomBookingStatus,
    ToolLoan,
    ToolLoanEvent,
)
from linli.bookings.permissions import Who
from linli.bookings.services.lookups import aware, person_lock, station_managed
from linli.bookings.transitions import (
    LOAN_FLOW,
    ROOM_BOOKING_FLOW,
    TransitionResult,
    transition_apply,
)
from linli.stations.hours import open_intervals
from linli.stations.models import Station

if TYPE_CHECKING:
    from linli.accounts.models import User

PURPOSE_MAX = 200
SWEEP_BATCH = 500


def resource_create(
    *,
    actor: User | None,
    station_id: int,
    kind: str,
    name: str,
    description: str = "",
    capacity: int | None = None,
    min_minutes: int = 30,
    max_minutes: int = 240,
    advance_days: int = 14,
    per_person_limit: int = 2,
    needs_approval: bool = False,
    quantity: int = 1,
    loan_days: int = 7,
) -> Resource:
    """A room or tool of a station (staff with ``bookings.manage`` over it; None = the system/seed)."""
    if actor is None:
        station = Station.objects.filter(pk=station_id).first()
        if station is None:
            raise not_found("服务阵地")
    else:
        station = station_managed(actor, station_id)
    if kind not in ResourceKind.values:
        raise BookingError("invalid_kind", "类型应为场地或工具")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise BookingError("invalid_name", "请填写名称(不超过100字)")
    if kind == ResourceKind.ROOM:
        if capacity is None or capacity < 1:
            raise BookingError("invalid_capacity", "请填写场地可容纳人数")
        if not 1 <= min_minutes <= max_minutes <= 24 * 60:
            raise BookingError("invalid_length_rule", "最短、最长时长应满足 1 ≤ 最短 ≤ 最长 ≤ 1440 分钟")
        if not 1 <= advance_days <= 365:
            raise BookingError("invalid_advance_days", "提前预订天数应为 1–365")
    elif not 1 <= quantity <= 999 or not 1 <= loan_days <= 90:
        raise BookingError("invalid_quantity", "工具数量应为 1–999,借用天数 1–90")
    if not 1 <= per_person_limit <= 50:
        raise BookingError("invalid_limit", "每人上限应为 1–50")
    return Resource.objects.create(
        station=station,
        kind=kind,
        name=name,
        description=(description or "").strip()[:300],
        capacity=capacity if kind == ResourceKind.ROOM else None,
        min_minutes=min_minutes,
        max_minutes=max_minutes,
        advance_days=advance_days,
        per_person_limit=per_person_limit,
        needs_approval=needs_approval,
        quantity=quantity if kind == ResourceKind.TOOL else 1,
        loan_days=loan_days,
        region_path=station.region_path,
    )


# --- rooms -----------------------------------------------------------------------------------------
def _inside_opening(station: Station, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
    day = timezone.localdate(starts_at)
    intervals = open_intervals(station, day) + open_intervals(station, day - dt.timedelta(days=1))
    return any(s <= starts_at and ends_at <= e for s, e in intervals)


def _room_rules(
    room: Resource, starts_at: dt.datetime, ends_at: dt.datetime, attendees: int, now: dt.datetime
) -> None:
    aware(starts_at, "开始时间")
    aware(ends_at, "结束时间")
    if ends_at <= starts_at:
        raise BookingError("invalid_period", "结束时间应晚于开始时间")
    if starts_at <= now:
        raise BookingError("in_past", "不能预订已经开始或过去的时间")
    minutes = (ends_at - starts_at).total_seconds() / 60
    if minutes < room.min_minutes:
        raise BookingError("too_short", f"{room.name}每次至少预订 {room.min_minutes} 分钟")
    if minutes > room.max_minutes:
        raise BookingError("too_long", f"{room.name}每次最多预订 {room.max_minutes} 分钟")
    if starts_at > now + dt.timedelta(days=room.advance_days):
        raise BookingError("too_far_ahead", f"{room.name}最多提前 {room.advance_days} 天预订")
    if not 1 <= attendees <= (room.capacity or 1):
        raise BookingError("over_capacity", f"{room.name}最多容纳 {room.capacity} 人")
    if not _inside_opening(room.station, starts_at, ends_at):
        raise BookingError("outside_opening_hours", "所选时间不在阵地的开放时间内")


def _room_lock(room_id: int) -> None:
    """Serialise bookings of one room (PostgreSQL row lock; SQLite's IMMEDIATE transaction already holds
    the database write lock)."""
    if connection.vendor != "sqlite":
        list(Resource.objects.select_for_update().filter(pk=room_id).values_list("pk", flat=True))


def room_book(
    *,
    user: User,
    resource_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    purpose: str,
    attendees: int = 1,
    now: dt.datetime | None = None,
) -> RoomBooking:
    now = now or timezone.now()
    room = (
        Resource.objects.select_related("station")
        .filter(pk=resource_id, kind=ResourceKind.ROOM, is_active=True, station__is_published=True)
        .first()
    )
    if room is None:
        raise BookingError("unknown_room", "场地不存在或暂停预订", status=404)
    purpose = (purpose or "").strip()
    if not purpose or len(purpose) > PURPOSE_MAX:
        raise BookingError("purpose_required", f"请填写用途(不超过{PURPOSE_MAX}字)")
    _room_rules(room, starts_at, ends_at, attendees, now)
    status = RoomBookingStatus.PENDING if room.needs_approval else RoomBookingStatus.CONFIRMED
    with transaction.atomic():
        person_lock(user.pk)
        _room_lock(room.pk)
        held = RoomBooking.objects.filter(resource=room, status__in=HOLDS_ROOM)
        if held.filter(booked_by=user, ends_at__gt=now).count() >= room.per_person_limit:
            raise BookingError(
                "person_limit",
                f"每人同时最多预订{room.name} {room.per_person_limit} 次,请先使用或取消",
                status=409,
            )
        if held.filter(starts_at__lt=ends_at, ends_at__gt=starts_at).exists():
            raise BookingError("room_taken", "该时间段已被预订,请换个时间", status=409)
        booking = RoomBooking(
            resource=room,
            booked_by=user,
            purpose=purpose,
            attendees=attendees,
            starts_at=starts_at,
            ends_at=ends_at,
            status=status,
            status_category="open",
            region_path=room.region_path,
        )
        try:
            with transaction.atomic():
                booking.save(force_insert=True)
        except IntegrityError as exc:  # PostgreSQL: the exclusion constraint saw an overlapping booking
            raise BookingError("room_taken", "该时间段已被预订,请换个时间", status=409) from exc
        RoomBookingEvent.objects.create(
            booking=booking,
            actor=user,
            actor_role=Who.OWNER.value,
            action="book",
            from_state="",
            to_state=status,
            created_at=now,
        )
        notify.room_booking_created(booking)
    return booking


def room_booking_decide(
    *, booking_id: int, actor: User, approve: bool, note: str = "", now: dt.datetime | None = None
) -> RoomBooking:
    """审批: approve or reject a pending booking (rejecting needs a reason)."""
    now = now or timezone.now()

    def effect(b: RoomBooking) -> dict[str, Any]:
        return {"decided_by_id": actor.pk, "decided_at": now}

    return transition_apply(
        flow=ROOM_BOOKING_FLOW,
        obj_id=booking_id,
        action="approve" if approve else "reject",
        actor=actor,
        note=note,
        effect=effect,
        after=notify.room_booking_changed,
        now=now,
    ).obj


def room_booking_cancel(
    *, booking_id: int, actor: User, note: str = "", now: dt.datetime | None = None
) -> RoomBooking:
    return transition_apply(
        flow=ROOM_BOOKING_FLOW,
        obj_id=booking_id,
        action="cancel",
        actor=actor,
        note=note,
        after=notify.room_booking_changed,
        now=now,
    ).obj


# --- tools -----------------------------------------------------------------------------------------
def tool_lend(
    *,
    actor: User,
    resource_id: int,
    borrower_phone: str,
    quantity: int = 1,
    due_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> ToolLoan:
    """Lend ``quantity`` of a tool to a resident (named by the phone of their account)."""
    from linli.accounts.models import User

    now = now or timezone.now()
    tool = Resource.objects.filter(pk=resource_id, kind=ResourceKind.TOOL).first()
    if tool is None:
        raise not_found("工具")
    station_managed(actor, tool.station_id)
    if not tool.is_active:
        raise BookingError("tool_inactive", "该工具已停用")
    try:
        phone = phone_normalize(borrower_phone)
    except AccountError as exc:
        raise BookingError(exc.code, exc.message) from exc
    borrower = User.objects.filter(phone_index__matches=phone, is_active=True).first()
    if borrower is None:
        raise BookingError("unknown_borrower", "该手机号尚未注册邻里账号,请先用手机号登录一次")
    if not isinstance(quantity, int) or quantity < 1:
        raise BookingError("invalid_quantity", "借用数量至少为 1")
    due_at = due_at or now + dt.timedelta(days=tool.loan_days)
    aware(due_at, "应还时间")
    if due_at <= now:
        raise BookingError("invalid_due", "应还时间应晚于现在")
    with transaction.atomic():
        person_lock(borrower.pk)
        out = ToolLoan.objects.filter(resource=tool, borrower=borrower, status=LoanStatus.LENT).count()
        if out >= tool.per_person_limit:
            raise BookingError(
                "person_limit", f"每人同时最多借用{tool.name} {tool.per_person_limit} 次", status=409
            )
        # Compare-and-set: as many lenders succeed as there are pieces on the shelf.
        won = Resource.objects.filter(pk=tool.pk, on_loan__lte=F("quantity") - quantity).update(
            on_loan=F("on_loan") + quantity, updated_at=now
        )
        if not won:
            raise BookingError("tool_unavailable", f"{tool.name}库存不足,暂不能借出", status=409)
        loan = ToolLoan.objects.create(
            resource=tool,
            borrower=borrower,
            quantity=quantity,
            lent_at=now,
            due_at=due_at,
            lent_by=actor,
            region_path=tool.region_path,
        )
        ToolLoanEvent.objects.create(
            loan=loan,
            actor=actor,
            actor_role=Who.STAFF.value,
            action="lend",
            from_state="",
            to_state=LoanStatus.LENT,
            data={"quantity": quantity},
            created_at=now,
        )
        notify.loan_lent(loan)
    return loan


def loan_return(*, loan_id: int, actor: User, note: str = "", now: dt.datetime | None = None) -> ToolLoan:
    now = now or timezone.now()

    def effect(loan: ToolLoan) -> dict[str, Any]:
        Resource.objects.filter(pk=loan.resource_id, on_loan__gte=loan.quantity).update(
            on_loan=F("on_loan") - loan.quantity, updated_at=now
        )
        return {"returned_at": now}

    result: TransitionResult = transition_apply(
        flow=LOAN_FLOW, obj_id=loan_id, action="return", actor=actor, note=note, effect=effect, now=now
    )
    return result.obj


def loan_extend(
    *, loan_id: int, actor: User, due_at: dt.datetime, now: dt.datetime | None = None
) -> ToolLoan:
    now = now or timezone.now()
    aware(due_at, "应还时间")
    if due_at <= now:
        raise BookingError("invalid_due", "新的应还时间应晚于现在")

    def effect(loan: ToolLoan) -> dict[str, Any]:
        return {"due_at": due_at, "overdue_reminded_on": None}

    return transition_apply(
        flow=LOAN_FLOW,
        obj_id=loan_id,
        action="extend",
        actor=actor,
        effect=effect,
        data={"due_at": due_at.isoformat()},
        now=now,
    ).obj


def loans_sweep_overdue(*, now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Remind borrowers of overdue tools, at most once per local day per loan (compare-and-set on
    ``overdue_reminded_on``; the dedup key names the day too). Idempotent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    not_today = Q(overdue_reminded_on__isnull=True) | Q(overdue_reminded_on__lt=today)
    loans = (
        ToolLoan.objects.filter(not_today, status=LoanStatus.LENT, due_at__lte=now)
        .select_related("resource", "borrower")
        .order_by("due_at", "id")[:limit]
    )
    sent = 0
    for loan in loans:
        with transaction.atomic():
            won = ToolLoan.objects.filter(not_today, pk=loan.pk, status=LoanStatus.LENT).update(
                overdue_reminded_on=today
            )
            if won:
                notify.loan_overdue(loan, day=today)
                sent += 1
    return sent
