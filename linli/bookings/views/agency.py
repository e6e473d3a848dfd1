"""代办/帮办 pages: the resident asks (mobile-first) and follows the steps; staff file on someone's behalf
and record the steps (desktop)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.bookings import selectors
from linli.bookings.errors import BookingError
from linli.bookings.forms import AgencyForm, AgencyStaffForm, StepForm
from linli.bookings.presenters import agency_dict
from linli.bookings.services import agency_request, agency_step
from linli.bookings.views.resident import resident_login_required, user_of
from linli.catalog.models import ServiceItem
from linli.stations.models import Station, StationKind


def _choices() -> dict[str, object]:
    return {
        "items": ServiceItem.objects.filter(is_active=True, agency_allowed=True).order_by(
            "sort_order", "code"
        ),
        "stations": Station.objects.filter(
            is_published=True, kind__in=[StationKind.COMMUNITY_CENTER, StationKind.DISTRICT_CENTER]
        ).order_by("region_path", "code"),
    }


@resident_login_required
def agency_new(request: HttpRequest) -> HttpResponse:
    """The resident asks for an errand for themself: pick an item, describe, submit."""
    user = user_of(request)
    if request.method == "POST":
        form = AgencyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                agency_request(
                    requester=user,
                    item_id=data["item"],
                    text=data["text"],
                    station_id=data["station"],
                    idempotency_key=data["idempotency_key"],
                )
            except BookingError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "代办申请已提交,工作人员会尽快联系您。")
                return redirect("bookings:agency_mine")
    else:
        # A fresh key per form: a double tap or a retried POST files one request, not two (REL-1).
        form = AgencyForm(
            initial={"idempotency_key": f"agency-{uuid.uuid4().hex}", "item": request.GET.get("item")}
        )
    return render(request, "bookings/agency_new.html", {"form": form} | _choices())


@resident_login_required
def agency_mine(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    rows = [agency_dict(d, viewer=user) for d in selectors.agency_mine(user=user)[:50]]
    return render(request, "bookings/agency_mine.html", {"rows": rows})


def _agency_staff(request: HttpRequest) -> None:
    if not user_has_capability(user_of(request), Capability.BOOKINGS_AGENCY):
        raise Http404


@login_required
def agency_desk(request: HttpRequest) -> HttpResponse:
    """Staff: requests in scope with their steps, and a form to file one for a resident."""
    _agency_staff(request)
    user = user_of(request)
    if request.method == "POST":
        form = AgencyStaffForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                agency_request(
                    requester=user,
                    item_id=data["item"],
                    text=data["text"],
                    station_id=data["station"],
                    beneficiary_phone=data["beneficiary_phone"],
                    beneficiary_name=data["beneficiary_name"],
                    door_to_door=data["door_to_door"],
                    in_care_registry=data["in_care_registry"],
                    care_note=data["care_note"],
                    idempotency_key=data["idempotency_key"],
                )
            except BookingError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "已代为登记代办申请。")
                return redirect("bookings:agency_desk")
    else:
        form = AgencyStaffForm(initial={"idempotency_key": f"agency-{uuid.uuid4().hex}"})
    open_only = request.GET.get("all") != "1"
    rows = [
        agency_dict(d, viewer=user, staff_view=True)
        for d in selectors.agency_for_user(user=user, open_only=open_only).prefetch_related("events")[:100]
    ]
    return render(
        request,
        "bookings/agency_desk.html",
        {"form": form, "rows": rows, "open_only": open_only} | _choices(),
    )


@login_required
@require_POST
def agency_step_view(request: HttpRequest, detail_id: int) -> HttpResponse:
    _agency_staff(request)
    form = StepForm(request.POST)
    if not form.is_valid():
        messages.error(request, "未知的代办步骤。")
        return redirect("bookings:agency_desk")
    try:
        agency_step(
            detail_id=detail_id,
            actor=user_of(request),
            action=form.cleaned_data["action"],
            note=form.cleaned_data["note"],
        )
    except BookingError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "已登记代办进度。")
    return redirect("bookings:agency_desk")
