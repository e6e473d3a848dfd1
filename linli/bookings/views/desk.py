"""The window desk (desktop, htmx): today's queue at a station, check-in (取号), recording encounters
(一窗受理), the day's records, workload, slot generation and a masked, audited CSV export."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.bookings import selectors
from linli.bookings.errors import BookingError
from linli.bookings.forms import GenerateForm, RecordForm
from linli.bookings.models import Appointment
from linli.bookings.presenters import appointment_dict, record_dict
from linli.bookings.services import appointment_check_in, service_record_create, slots_generate
from linli.bookings.services.lookups import station_managed
from linli.bookings.views.resident import user_of
from linli.catalog.models import ServiceItem
from linli.security.audit import audit_record
from linli.security.models import AuditResult
from linli.stations.models import Station, StationService

EXPORT_MAX_DAYS = 92


def _station(request: HttpRequest, station_id: int) -> Station:
    try:
        return station_managed(user_of(request), station_id)
    except BookingError as exc:
        raise Http404 from exc


def _desk_items(station: Station) -> list[ServiceItem]:
    """What the window may record: the station's menu, plus the 通办 items any window handles."""
    return list(
        ServiceItem.objects.filter(is_active=True)
        .filter(Q(offers__station=station, offers__is_active=True) | Q(universal=True))
        .distinct()
        .order_by("sort_order", "code")
    )


def _work_context(request: HttpRequest, station: Station) -> dict[str, Any]:
    user = user_of(request)
    today = timezone.localdate()
    queue = selectors.queue_for_station(user=user, station_id=station.pk, day=today)
    records = [
        record_dict(r) for r in selectors.records_for_station(user=user, station_id=station.pk, day=today)
    ]
    return {
        "station": station,
        "today": today,
        "waiting": [appointment_dict(a, viewer=user, staff_view=True) for a in queue.waiting],
        "expected": [appointment_dict(a, viewer=user, staff_view=True) for a in queue.expected],
        "done_count": queue.done,
        "no_show_count": queue.no_show,
        "records": records,
        "minutes_today": sum(r["minutes"] for r in records),
    }


@login_required
def desk(request: HttpRequest) -> HttpResponse:
    stations = list(selectors.desk_stations_for_user(user=user_of(request))[:200])
    if not stations:
        raise Http404
    if len(stations) == 1:
        return redirect("bookings:desk_station", station_id=stations[0].pk)
    return render(request, "bookings/desk_pick.html", {"stations": stations})


@login_required
def desk_station(request: HttpRequest, station_id: int) -> HttpResponse:
    station = _station(request, station_id)
    today = timezone.localdate()
    workload = selectors.workload_for_user(
        user=user_of(request), since=today.replace(day=1), until=today, station_id=station.pk
    )
    items = _desk_items(station)
    on_menu = set(
        StationService.objects.filter(station=station, is_active=True).values_list("item_id", flat=True)
    )
    context = _work_context(request, station) | {
        "items": items,
        "outcomes": RecordForm.base_fields["outcome"].choices,  # type: ignore[attr-defined]
        "workload": workload,
        "generate_form": GenerateForm(
            initial={
                "first_day": today,
                "last_day": today + dt.timedelta(days=13),
                "length_minutes": 30,
                "capacity": 5,
            }
        ),
        "menu_items": [i for i in items if i.pk in on_menu],  # slots only for what the menu offers
    }
    return render(request, "bookings/desk.html", context)


def _work_response(
    request: HttpRequest, station: Station, *, error: str = "", status: int = 200
) -> HttpResponse:
    if request.headers.get("HX-Request"):
        context = _work_context(request, station) | {"error": error, "items": _desk_items(station)}
        context["outcomes"] = RecordForm.base_fields["outcome"].choices  # type: ignore[attr-defined]
        return render(request, "bookings/desk.html#work", context, status=status)
    if error:
        messages.error(request, error)
    return redirect("bookings:desk_station", station_id=station.pk)


@login_required
@require_POST
def check_in(request: HttpRequest, station_id: int, appointment_id: int) -> HttpResponse:
    station = _station(request, station_id)
    if not Appointment.objects.filter(pk=appointment_id, station_id=station.pk).exists():
        raise Http404  # an appointment of another station is not on this desk
    try:
        appointment = appointment_check_in(appointment_id=appointment_id, actor=user_of(request))
    except BookingError as exc:
        if exc.status == 404:
            raise Http404 from exc
        return _work_response(request, station, error=exc.message, status=422)
    if not request.headers.get("HX-Request"):
        messages.success(request, f"已取号:{appointment.queue_number}")
    return _work_response(request, station)


@login_required
@require_POST
def record(request: HttpRequest, station_id: int) -> HttpResponse:
    station = _station(request, station_id)
    form = RecordForm(request.POST)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return _work_response(request, station, error=f"请检查填写:{first}", status=422)
    data = form.cleaned_data
    try:
        service_record_create(
            actor=user_of(request),
            station_id=station.pk,
            item_id=data["item"],
            outcome=data["outcome"],
            minutes=data["minutes"],
            appointment_id=data["appointment_id"],
            resident_phone=data["resident_phone"],
            visitor_name=data["visitor_name"],
            note=data["note"],
        )
    except BookingError as exc:
        if exc.status == 404 and exc.code == "not_found":
            raise Http404 from exc
        return _work_response(request, station, error=exc.message, status=422)
    if not request.headers.get("HX-Request"):
        messages.success(request, "已登记。")
    return _work_response(request, station)


@login_required
@require_POST
def generate(request: HttpRequest, station_id: int) -> HttpResponse:
    station = _station(request, station_id)
    form = GenerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请检查号源设置。")
        return redirect("bookings:desk_station", station_id=station.pk)
    try:
        result = slots_generate(
            actor=user_of(request),
            station_id=station.pk,
            item_id=form.cleaned_data["item"],
            first_day=form.cleaned_data["first_day"],
            last_day=form.cleaned_data["last_day"],
            length_minutes=form.cleaned_data["length_minutes"],
            capacity=form.cleaned_data["capacity"],
        )
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已生成 {result.created} 个时段(已有 {result.existing} 个未重复生成)。")
    return redirect("bookings:desk_station", station_id=station.pk)


@login_required
def export(request: HttpRequest, station_id: int) -> HttpResponse:
    """The station's window records as CSV (people masked), audited as one ``data.export``."""
    station = _station(request, station_id)
    user = user_of(request)
    if not user_has_capability(user, Capability.BOOKINGS_VIEW):
        raise Http404
    today = timezone.localdate()
    try:
        since = dt.date.fromisoformat(request.GET.get("since") or today.replace(day=1).isoformat())
        until = dt.date.fromisoformat(request.GET.get("until") or today.isoformat())
    except ValueError as exc:
        raise Http404 from exc
    if since > until or (until - since).days > EXPORT_MAX_DAYS:
        messages.error(request, f"导出范围最多 {EXPORT_MAX_DAYS} 天。")
        return redirect("bookings:desk_station", station_id=station.pk)
    rows = [
        record_dict(r)
        for r in selectors.records_for_user(user=user, since=since, until=until).filter(
            station_id=station.pk
        )[:20000]
    ]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="records-{station.code}-{since}-{until}.csv"'
    response["Cache-Control"] = "no-store"
    response.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a BOM
    writer = csv.writer(response)
    writer.writerow(["时间", "排队号", "事项", "办理结果", "用时(分钟)", "窗口人员", "群众", "电话"])
    for r in rows:
        writer.writerow(
            [
                f"{timezone.localtime(r['served_at']):%Y-%m-%d %H:%M}",
                r["queue_number"],
                _cell(r["item_name"]),
                r["outcome_label"],
                r["minutes"],
                _cell(r["staff"]),
                r["resident"]["name"],
                r["resident"]["phone"],
            ]
        )
    audit_record(
        action="data.export",
        actor=user,
        obj=station,
        result=AuditResult.OK,
        data={
            "what": "bookings.service_records",
            "rows": len(rows),
            "since": str(since),
            "until": str(until),
        },
        request=request,
    )
    return response


def _cell(text: str) -> str:
    """A cell that a spreadsheet would run as a formula is escaped (IO-2)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
