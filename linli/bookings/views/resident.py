"""Resident pages (mobile-first): book (station → item → day → slot → confirm), my appointments with
cancel and reschedule. Plain links and forms: every step works without JavaScript."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.bookings import selectors
from linli.bookings.errors import BookingError
from linli.bookings.forms import BookingStepForm, ConfirmForm, NoteForm, RescheduleForm
from linli.bookings.models import Slot
from linli.bookings.presenters import appointment_dict
from linli.bookings.services import appointment_book, appointment_cancel, appointment_reschedule
from linli.catalog.models import ServiceItem
from linli.stations.models import Station

WEEKDAYS = "一二三四五六日"
# Residents sign in with their phone and an SMS code, not the staff password page (settings.LOGIN_URL).
resident_login_required = login_required(login_url="accounts:phone_login")


def user_of(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def day_label(day: dt.date) -> str:
    today = timezone.localdate()
    names = {today: "今天", today + dt.timedelta(days=1): "明天", today + dt.timedelta(days=2): "后天"}
    return f"{day:%m月%d日} 周{WEEKDAYS[day.weekday()]}" + (f"({names[day]})" if day in names else "")


def book(request: HttpRequest) -> HttpResponse:
    """One page, four steps; each step narrows the GET parameters (station, item, day, slot)."""
    form = BookingStepForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    now = timezone.now()
    context: dict[str, Any] = {"step": "station"}
    station = item = None
    if data.get("station"):
        station = Station.objects.filter(pk=data["station"], is_published=True).first()
    if station is None:
        context["stations"] = selectors.stations_with_slots(now=now)[:100]
        return render(request, "bookings/book.html", context)
    context.update(station=station, step="item")
    if data.get("item"):
        item = selectors.items_with_slots(station_id=station.pk, now=now).filter(pk=data["item"]).first()
    if item is None:
        context["items"] = selectors.items_with_slots(station_id=station.pk, now=now)
        return render(request, "bookings/book.html", context)
    context.update(item=item, step="day")
    if data.get("slot"):
        slot = (
            selectors.slots_on_day(
                station_id=station.pk, item_id=item.pk, day=data.get("day") or timezone.localdate(), now=now
            )
            .filter(pk=data["slot"])
            .first()
        )
        if slot is not None:
            context.update(
                step="confirm",
                slot=slot,
                day=slot.day,
                day_label=day_label(slot.day),
                confirm_form=ConfirmForm(initial={"slot_id": slot.pk}),
            )
            return render(request, "bookings/book.html", context)
        messages.error(request, "该时段已约满或已过,请重新选择。")
    day = data.get("day")
    if day is None:
        days = selectors.slot_days(station_id=station.pk, item_id=item.pk, now=now)
        context["days"] = [d | {"label": day_label(d["day"])} for d in days]
        return render(request, "bookings/book.html", context)
    context.update(
        step="slot",
        day=day,
        day_label=day_label(day),
        slots=selectors.slots_on_day(station_id=station.pk, item_id=item.pk, day=day, now=now),
    )
    return render(request, "bookings/book.html", context)


@resident_login_required
@require_POST
def book_confirm(request: HttpRequest) -> HttpResponse:
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择预约时段。")
        return redirect("bookings:book")
    try:
        appointment = appointment_book(
            resident=user_of(request), slot_id=form.cleaned_data["slot_id"], note=form.cleaned_data["note"]
        )
    except BookingError as exc:
        messages.error(request, exc.message)
        slot = Slot.objects.filter(pk=form.cleaned_data["slot_id"]).first()
        if slot is None:
            return redirect("bookings:book")
        return redirect(f"{reverse('bookings:book')}?station={slot.station_id}&item={slot.item_id}")
    messages.success(request, f"预约成功:{appointment.station.name} {appointment.item.name}。")
    return redirect("bookings:mine")


@resident_login_required
def mine(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    rows = [appointment_dict(a, viewer=user) for a in selectors.appointments_mine(user=user)[:50]]
    return render(
        request,
        "bookings/mine.html",
        {
            "open": [r for r in rows if r["status_category"] == "open"],
            "past": [r for r in rows if r["status_category"] != "open"][:20],
        },
    )


@resident_login_required
@require_POST
def cancel(request: HttpRequest, appointment_id: int) -> HttpResponse:
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        appointment_cancel(appointment_id=appointment_id, actor=user_of(request), note=note)
    except BookingError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "预约已取消。")
    return redirect("bookings:mine")


@resident_login_required
def reschedule(request: HttpRequest, appointment_id: int) -> HttpResponse:
    user = user_of(request)
    appointment = selectors.appointments_mine(user=user).filter(pk=appointment_id).first()
    if appointment is None:
        raise Http404
    if request.method == "POST":
        form = RescheduleForm(request.POST)
        if form.is_valid():
            try:
                appointment_reschedule(
                    appointment_id=appointment.pk, actor=user, slot_id=form.cleaned_data["slot_id"]
                )
            except BookingError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "已改约。")
                return redirect("bookings:mine")
    step = BookingStepForm(request.GET or None)
    day = step.cleaned_data.get("day") if step.is_valid() else None
    now = timezone.now()
    item: ServiceItem = appointment.item
    days = [
        d | {"label": day_label(d["day"])}
        for d in selectors.slot_days(station_id=appointment.station_id, item_id=item.pk, now=now)
    ]
    slots = (
        selectors.slots_on_day(station_id=appointment.station_id, item_id=item.pk, day=day, now=now).exclude(
            pk=appointment.slot_id
        )
        if day
        else None
    )
    return render(
        request,
        "bookings/reschedule.html",
        {
            "appointment": appointment_dict(appointment, viewer=user),
            "days": days,
            "day": day,
            "day_label": day_label(day) if day else "",
            "slots": slots,
        },
    )
