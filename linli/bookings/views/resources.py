"""Rooms and tools pages: residents book a station's room and see their bookings; staff approve bookings,
lend tools and take them back."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.bookings import selectors
from linli.bookings.errors import BookingError
from linli.bookings.forms import LendForm, NoteForm, ResourceForm, RoomBookForm
from linli.bookings.models import ResourceKind
from linli.bookings.presenters import loan_dict, room_booking_dict
from linli.bookings.services import (
    loan_return,
    resource_create,
    room_book,
    room_booking_cancel,
    room_booking_decide,
    tool_lend,
)
from linli.bookings.views.resident import resident_login_required, user_of
from linli.stations.models import Station


def rooms(request: HttpRequest, station_id: int) -> HttpResponse:
    """A station's rooms and tools, with a booking form per room (booking needs sign-in)."""
    station = Station.objects.filter(pk=station_id, is_published=True).first()
    if station is None:
        raise Http404
    resources = list(selectors.resources_public(station_id=station.pk))
    form = RoomBookForm(initial={"day": timezone.localdate()})
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "accounts:phone_login")
        form = RoomBookForm(request.POST)
        room_id = request.POST.get("room")
        if form.is_valid() and room_id and room_id.isdigit():
            starts_at, ends_at = form.period()
            try:
                room_book(
                    user=user_of(request),
                    resource_id=int(room_id),
                    starts_at=starts_at,
                    ends_at=ends_at,
                    purpose=form.cleaned_data["purpose"],
                    attendees=form.cleaned_data["attendees"],
                )
            except BookingError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "场地预订已提交。")
                return redirect("bookings:rooms_mine")
        else:
            messages.error(request, "请填写日期、开始和结束时间、用途。")
    return render(
        request,
        "bookings/rooms.html",
        {
            "station": station,
            "rooms": [r for r in resources if r.kind == ResourceKind.ROOM],
            "tools": [r for r in resources if r.kind == ResourceKind.TOOL],
            "form": form,
        },
    )


@resident_login_required
def rooms_mine(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    rows = [room_booking_dict(b, viewer=user) for b in selectors.room_bookings_mine(user=user)[:50]]
    return render(request, "bookings/rooms_mine.html", {"rows": rows})


@login_required
@require_POST
def room_booking_cancel_view(request: HttpRequest, booking_id: int) -> HttpResponse:
    try:
        room_booking_cancel(booking_id=booking_id, actor=user_of(request))
    except BookingError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "已取消场地预订。")
    target = "bookings:resources_desk" if request.POST.get("from") == "desk" else "bookings:rooms_mine"
    return redirect(target)


def _manager(request: HttpRequest) -> None:
    if not user_has_capability(user_of(request), Capability.BOOKINGS_MANAGE):
        raise Http404


@login_required
def resources_desk(request: HttpRequest) -> HttpResponse:
    _manager(request)
    user = user_of(request)
    return render(
        request,
        "bookings/resources_desk.html",
        {
            "pending": [
                room_booking_dict(b, viewer=user, staff_view=True)
                for b in selectors.room_bookings_pending_for_user(user=user)[:100]
            ],
            "loans": [
                loan_dict(loan, viewer=user) for loan in selectors.loans_open_for_user(user=user)[:200]
            ],
            "tools": selectors.resources_for_user(user=user, kind=ResourceKind.TOOL).filter(is_active=True)[
                :200
            ],
            "rooms": selectors.resources_for_user(user=user, kind=ResourceKind.ROOM)[:200],
            "lend_form": LendForm(),
            "stations": selectors.desk_stations_for_user(user=user)[:200],
            "kinds": ResourceKind.choices,
        },
    )


@login_required
@require_POST
def resource_add(request: HttpRequest) -> HttpResponse:
    _manager(request)
    form = ResourceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请检查场地/工具的填写。")
        return redirect("bookings:resources_desk")
    data = form.cleaned_data
    station_id = data.pop("station")
    try:
        resource_create(actor=user_of(request), station_id=station_id, **data)
    except BookingError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已添加:{data['name']}。")
    return redirect("bookings:resources_desk")


@login_required
@require_POST
def room_decide(request: HttpRequest, booking_id: int) -> HttpResponse:
    _manager(request)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    approve = request.POST.get("decision") == "approve"
    try:
        room_booking_decide(booking_id=booking_id, actor=user_of(request), approve=approve, note=note)
    except BookingError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "已批准。" if approve else "已驳回。")
    return redirect("bookings:resources_desk")


@login_required
@require_POST
def lend(request: HttpRequest, resource_id: int) -> HttpResponse:
    _manager(request)
    form = LendForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写借用人手机号和数量。")
        return redirect("bookings:resources_desk")
    try:
        loan = tool_lend(
            actor=user_of(request),
            resource_id=resource_id,
            borrower_phone=form.cleaned_data["borrower_phone"],
            quantity=form.cleaned_data["quantity"],
        )
    except BookingError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已借出,应还时间 {timezone.localtime(loan.due_at):%m-%d %H:%M}。")
    return redirect("bookings:resources_desk")


@login_required
@require_POST
def give_back(request: HttpRequest, loan_id: int) -> HttpResponse:
    _manager(request)
    try:
        loan_return(loan_id=loan_id, actor=user_of(request))
    except BookingError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "已登记归还。")
    return redirect("bookings:resources_desk")
