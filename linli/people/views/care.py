"""Care pages: the list (overdue first) for grid workers (mobile) and community staff, the record with its
visits (each view audited), recording a visit with a photo, opening, re-grading and closing a record.
Readable only with ``care.view`` in scope (PI-3); everyone else gets an audited 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.models import Membership, User
from linli.accounts.roles import Capability, Role
from linli.accounts.scopes import user_has_capability
from linli.people.access import may
from linli.people.errors import PeopleError
from linli.people.forms import CareFilterForm, CareLevelForm, CareOpenForm, CloseForm, VisitForm
from linli.people.models import CareRecord, CareStatus, CareVisitPhoto, Resident
from linli.people.presenters import care_row, resident_row
from linli.people.selectors.care import (
    CareFilters,
    care_counts_for_user,
    care_record_for_user,
    care_records_for_user,
    care_visits_of,
)
from linli.people.selectors.households import resident_for_user
from linli.people.services import care_record_close, care_record_open, care_record_update, care_visit_record
from linli.people.views.common import gate, missing, user_of
from linli.security.audit import audit_sensitive_read
from linli.security.uploads import serve_upload

PAGE = 50


def care_list(request: HttpRequest) -> HttpResponse:
    if (early := gate(request, Capability.CARE_VIEW)) is not None:
        return early
    user = user_of(request)
    form = CareFilterForm(request.GET or None)
    d = form.cleaned_data if form.is_valid() else {}
    filters = CareFilters(
        status="" if d.get("closed") else CareStatus.ACTIVE,
        level=d.get("level") or "",
        category_id=d["category"].pk if d.get("category") else None,
        worker_id=user.pk if d.get("mine") else None,
        overdue_only=bool(d.get("overdue") or request.GET.get("overdue") == "1"),
    )
    qs = care_records_for_user(user, filters).prefetch_related("categories")
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "rows": [care_row(r, today) for r in page.object_list],
        "page": page,
        "counts": care_counts_for_user(user, today=today),
        "query": query,
    }
    return render(request, "people/care_list.html", context)


def _record(request: HttpRequest, record_id: int, capability: str = Capability.CARE_VIEW) -> CareRecord:
    user = user_of(request)
    record = care_record_for_user(user, record_id)
    if record is None or not may(user, capability, record):
        missing(CareRecord, record_id)
    return record


def _detail_context(request: HttpRequest, record: CareRecord, **extra: Any) -> dict[str, Any]:
    user = user_of(request)
    context = {
        "record": record,
        "row": care_row(record),
        "resident": resident_row(record.resident),
        "visits": list(care_visits_of(record)[:50]),
        "events": list(record.events.select_related("actor")[:50]),
        "may_edit": may(user, Capability.CARE_EDIT, record) and record.status == CareStatus.ACTIVE,
        "visit_form": VisitForm(),
        "level_form": CareLevelForm(initial={"level": record.level.code}),
        "close_form": CloseForm(),
        # A need found on a visit is filed in the 三清单 with the visit as its source (linli.needs).
        "may_file_need": user_has_capability(user, Capability.NEEDS_REPORT),
    }
    context.update(extra)
    return context


def care_detail(request: HttpRequest, record_id: int) -> HttpResponse:
    if (early := gate(request, Capability.CARE_VIEW)) is not None:
        return early
    record = _record(request, record_id)
    audit_sensitive_read(
        viewer=user_of(request), obj=record, fields=["care_record"], purpose="care", request=request
    )
    return render(request, "people/care_detail.html", _detail_context(request, record))


@require_POST
def care_visit(request: HttpRequest, record_id: int) -> HttpResponse:
    """Record a visit (mobile): door or phone, notes, one photo taken on the spot."""
    if (early := gate(request, Capability.CARE_EDIT)) is not None:
        return early
    record = _record(request, record_id, Capability.CARE_EDIT)
    form = VisitForm(request.POST, request.FILES)
    if form.is_valid():
        photo = form.cleaned_data.get("photo")
        try:
            care_visit_record(
                actor=user_of(request),
                record_id=record.pk,
                kind=form.cleaned_data["kind"],
                notes=form.cleaned_data["notes"],
                photos=[photo] if photo else [],
            )
        except PeopleError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("走访已登记,下次走访日期已更新。"))
            return redirect("people:care_detail", record_id=record.pk)
    return render(
        request, "people/care_detail.html", _detail_context(request, record, visit_form=form), status=400
    )


@require_POST
def care_level(request: HttpRequest, record_id: int) -> HttpResponse:
    if (early := gate(request, Capability.CARE_EDIT)) is not None:
        return early
    record = _record(request, record_id, Capability.CARE_EDIT)
    form = CareLevelForm(request.POST)
    if form.is_valid():
        try:
            care_record_update(
                actor=user_of(request),
                record_id=record.pk,
                level_code=form.cleaned_data["level"],
                note=form.cleaned_data["note"],
            )
        except PeopleError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("关爱等级已调整。"))
    return redirect("people:care_detail", record_id=record.pk)


@require_POST
def care_close(request: HttpRequest, record_id: int) -> HttpResponse:
    if (early := gate(request, Capability.CARE_EDIT)) is not None:
        return early
    record = _record(request, record_id, Capability.CARE_EDIT)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            care_record_close(actor=user_of(request), record_id=record.pk, reason=form.cleaned_data["reason"])
        except PeopleError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("关爱记录已结束。"))
    else:
        messages.error(request, _("请填写结束原因。"))
    return redirect("people:care_detail", record_id=record.pk)


def _workers_for(resident: Resident) -> list[tuple[int, str]]:
    """Grid workers of the resident's grid: the usual owners of a visit plan."""
    if resident.grid_id is None:
        return []
    rows = Membership.objects.filter(
        grid_id=resident.grid_id, role=Role.GRID_WORKER, is_active=True
    ).select_related("user")
    return [(m.user_id, str(m.user)) for m in rows if m.user.is_active]


@require_http_methods(["GET", "POST"])
def care_open(request: HttpRequest, resident_id: int) -> HttpResponse:
    """Put a resident on the registry: categories, level, the grid worker whose plan they join."""
    if (early := gate(request, Capability.CARE_EDIT)) is not None:
        return early
    user = user_of(request)
    resident = resident_for_user(user, resident_id)
    if resident is None or not may(user, Capability.CARE_EDIT, resident):
        missing(Resident, resident_id)
    workers = _workers_for(resident)
    form = CareOpenForm(request.POST or None, workers=workers)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        worker = User.objects.filter(pk=int(d["worker"])).first() if d["worker"] else None
        try:
            record = care_record_open(
                actor=user,
                resident=resident,
                category_ids=[c.pk for c in d["categories"]],
                level_code=d["level"],
                worker=worker,
                interval_days_override=d["interval_days"],
                situation=d["situation"],
            )
        except PeopleError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已列入关爱名单。"))
            return redirect("people:care_detail", record_id=record.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "people/care_open.html", {"form": form, "resident": resident_row(resident)}, status=status
    )


def care_photo(request: HttpRequest, visit_id: int, photo_id: int) -> HttpResponseBase:
    """A visit photo, after the same check as its record (``care.view`` in scope)."""
    if (early := gate(request, Capability.CARE_VIEW)) is not None:
        return early
    photo = (
        CareVisitPhoto.objects.select_related("visit__record").filter(pk=photo_id, visit_id=visit_id).first()
    )
    if photo is None:
        missing(CareVisitPhoto, photo_id)
    allowed = CareRecord.objects.for_user(user_of(request)).filter(pk=photo.visit.record_id).exists()
    if not allowed:
        missing(CareVisitPhoto, photo_id)
    return serve_upload(request, photo.file, allowed=True)
