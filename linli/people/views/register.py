"""Register pages: the desktop register with filters, import and export; the grid worker's mobile "my
households"; household and resident pages (masked, reads audited) with moves and the reveal flow."""

from __future__ import annotations

import contextlib
import io
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.people.access import may
from linli.people.errors import PeopleError
from linli.people.excel.register_export import register_export
from linli.people.excel.register_import import COLUMNS, MAX_BYTES, register_import
from linli.people.forms import (
    ExportForm,
    ImportForm,
    LookupForm,
    MoveInForm,
    MoveOutForm,
    RegisterFilterForm,
    RevealForm,
)
from linli.people.models import Household, Resident, ResidentStatus
from linli.people.presenters import household_row, resident_row
from linli.people.selectors.households import (
    RegisterFilters,
    building_for_user,
    grid_building_counts,
    grids_for_user,
    household_for_user,
    household_moves,
    household_residents,
    households_for_user,
    resident_for_user,
    residents_for_user,
    residents_lookup,
)
from linli.people.services import resident_move_in, resident_move_out
from linli.people.views.common import gate, int_or_none, missing, user_of
from linli.places.models import Region
from linli.security.audit import audit_record, audit_sensitive_read
from linli.security.models import AuditResult
from linli.security.reveal import RevealError, may_reveal, pii_reveal

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 50


def _filters(request: HttpRequest) -> tuple[RegisterFilterForm, RegisterFilters]:
    form = RegisterFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    status = data.get("status", ResidentStatus.PRESENT) if request.GET else ResidentStatus.PRESENT
    filters = RegisterFilters(
        grid_id=data.get("grid"),
        building_id=data.get("building"),
        status=status or "",
        registration=data.get("registration") or "",
        tag=data.get("tag") or "",
        room=data.get("room") or "",
    )
    return form, filters


def register(request: HttpRequest) -> HttpResponse:
    """The register (desktop): residents in scope with filters; import and export for those who may."""
    if (early := gate(request, Capability.VIEW_PEOPLE)) is not None:
        return early
    user = user_of(request)
    form, filters = _filters(request)
    page = Paginator(residents_for_user(user, filters), PAGE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "filters": filters,
        "rows": [resident_row(r, today) for r in page.object_list],
        "page": page,
        "grids": list(grids_for_user(user)[:300]),
        "lookup_form": LookupForm(),
        "export_form": ExportForm(
            initial={"grid": filters.grid_id, "building": filters.building_id, "status": filters.status}
        ),
        "may_import": user_has_capability(user, Capability.PEOPLE_EDIT),
        "may_export": user_has_capability(user, Capability.PEOPLE_EXPORT),
        "may_reveal": user_has_capability(user, Capability.REVEAL_PEOPLE),
        "query": query,
    }
    return render(request, "people/register.html", context)


def mine(request: HttpRequest) -> HttpResponse:
    """我的住户 (mobile): the buildings of my grid with household and resident counts."""
    if (early := gate(request, Capability.VIEW_PEOPLE)) is not None:
        return early
    rows = grid_building_counts(user_of(request))
    return render(request, "people/mine.html", {"rows": rows})


def building(request: HttpRequest, building_id: int) -> HttpResponse:
    """One building's households (mobile), with the link to its public 三亮 card."""
    if (early := gate(request, Capability.VIEW_PEOPLE)) is not None:
        return early
    user = user_of(request)
    found = building_for_user(user, building_id)
    if found is None:
        missing(Region, building_id)
    households = [household_row(h) for h in households_for_user(user, RegisterFilters(building_id=found.pk))]
    return render(request, "people/building.html", {"building": found, "households": households})


def _household_context(
    request: HttpRequest, household: Household, move_in_form: MoveInForm | None = None
) -> dict[str, Any]:
    user = user_of(request)
    today = timezone.localdate()
    return {
        "household": household,
        "row": household_row(household),
        "residents": [
            resident_row(r, today)
            for r in household_residents(household).select_related("household__building__parent")
        ],
        "moves": list(household_moves(household)),
        "may_edit": may(user, Capability.PEOPLE_EDIT, household),
        "move_in_form": move_in_form or MoveInForm(),
    }


@require_http_methods(["GET", "POST"])
def household(request: HttpRequest, household_id: int) -> HttpResponse:
    """A household (masked; each view audited) with its move history; POST registers a move-in."""
    if (early := gate(request, Capability.VIEW_PEOPLE)) is not None:
        return early
    user = user_of(request)
    found = household_for_user(user, household_id)
    if found is None:
        missing(Household, household_id)
    if request.method == "POST":
        if not may(user, Capability.PEOPLE_EDIT, found):
            missing(Household, household_id)
        form = MoveInForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                resident_move_in(
                    actor=user,
                    household=found,
                    name=d["name"],
                    gender=d["gender"],
                    birth_date=d["birth_date"],
                    id_number=d["id_number"],
                    phone=d["phone"],
                    relation=d["relation"],
                    registration=d["registration"],
                    tags=form.tag_list(),
                    moved_on=d["moved_on"],
                    reason=d["reason"],
                )
            except PeopleError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("已登记迁入。"))
                return redirect("people:household", household_id=found.pk)
        return render(request, "people/household.html", _household_context(request, found, form), status=400)
    audit_sensitive_read(viewer=user, obj=found, fields=["residents"], purpose="household", request=request)
    return render(request, "people/household.html", _household_context(request, found))


def _resident_context(request: HttpRequest, resident: Resident, **extra: Any) -> dict[str, Any]:
    user = user_of(request)
    context = {
        "resident": resident,
        "row": resident_row(resident),
        "moves": list(resident.moves.select_related("household__building__parent", "actor")),
        "may_reveal": may_reveal(user, resident),
        "may_edit": may(user, Capability.PEOPLE_EDIT, resident) and resident.status == ResidentStatus.PRESENT,
        "may_care": user_has_capability(user, Capability.CARE_EDIT)
        and may(user, Capability.CARE_EDIT, resident),
        "reveal_form": RevealForm(),
        "move_out_form": MoveOutForm(),
        "revealed": None,
    }
    context.update(extra)
    return context


def resident(request: HttpRequest, resident_id: int) -> HttpResponse:
    if (early := gate(request, Capability.VIEW_PEOPLE)) is not None:
        return early
    user = user_of(request)
    found = resident_for_user(user, resident_id)
    if found is None:
        missing(Resident, resident_id)
    audit_sensitive_read(viewer=user, obj=found, fields=["resident"], purpose="resident", request=request)
    return render(request, "people/resident.html", _resident_context(request, found))


@require_POST
def reveal(request: HttpRequest, resident_id: int) -> HttpResponse:
    """Show one full value on the resident page, for a reason (``pii_reveal`` audits granted and refused)."""
    if (early := gate(request, Capability.VIEW_PEOPLE)) is not None:
        return early
    user = user_of(request)
    found = resident_for_user(user, resident_id)
    if found is None:
        missing(Resident, resident_id)
    form = RevealForm(request.POST)
    if not form.is_valid():
        field = request.POST.get("field", "")
        if (
            field in {"name", "id_number", "phone", "birth_date"}
            and not request.POST.get("reason", "").strip()
        ):
            # A missing reason goes through pii_reveal anyway, so the refusal is in the audit trail.
            with contextlib.suppress(RevealError):
                pii_reveal(viewer=user, obj=found, field=field, reason="", request=request)
        return render(
            request, "people/resident.html", _resident_context(request, found, reveal_form=form), status=400
        )
    try:
        value = pii_reveal(
            viewer=user,
            obj=found,
            field=form.cleaned_data["field"],
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except RevealError as exc:
        form.add_error(None, exc.message)
        return render(
            request, "people/resident.html", _resident_context(request, found, reveal_form=form), status=403
        )
    label = dict(form.fields["field"].choices).get(form.cleaned_data["field"], "")  # type: ignore[attr-defined]
    return render(
        request,
        "people/resident.html",
        _resident_context(request, found, revealed={"label": label, "value": value}),
    )


@require_POST
def move_out(request: HttpRequest, resident_id: int) -> HttpResponse:
    if (early := gate(request, Capability.PEOPLE_EDIT)) is not None:
        return early
    user = user_of(request)
    found = resident_for_user(user, resident_id)
    if found is None or not may(user, Capability.PEOPLE_EDIT, found):
        missing(Resident, resident_id)
    form = MoveOutForm(request.POST)
    if form.is_valid():
        try:
            resident_move_out(
                actor=user,
                resident_id=found.pk,
                moved_on=form.cleaned_data["moved_on"],
                reason=form.cleaned_data["reason"],
            )
        except PeopleError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已办理迁出。"))
    else:
        messages.error(request, _("迁出日期不正确。"))
    return redirect("people:resident", resident_id=found.pk)


@require_POST
def lookup(request: HttpRequest) -> HttpResponse:
    """Find by ID number, phone or full name (POST: the value never goes into a URL); audited."""
    if (early := gate(request, Capability.VIEW_PEOPLE)) is not None:
        return early
    user = user_of(request)
    form = LookupForm(request.POST)
    rows: list[dict[str, Any]] = []
    if form.is_valid():
        d = form.cleaned_data
        found = list(residents_lookup(user, id_number=d["id_number"], phone=d["phone"], name=d["name"])[:20])
        audit_record(
            action="pii.read",
            actor=user,
            obj=None,
            object_type="people.resident",
            result=AuditResult.OK,
            data={
                "lookup": sorted(k for k in ("id_number", "phone", "name") if (d[k] or "").strip()),
                "found": len(found),
            },
            request=request,
        )
        rows = [resident_row(r) for r in found]
    if form.is_valid():
        # A fresh form: the searched number is not echoed back into the page (PI-2).
        return render(request, "people/lookup.html", {"form": LookupForm(), "rows": rows, "searched": True})
    return render(request, "people/lookup.html", {"form": form, "rows": rows}, status=400)


@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    """Upload the register as .xlsx: all rows saved, or none with every row's error listed."""
    if (early := gate(request, Capability.PEOPLE_EDIT)) is not None:
        return early
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            form.add_error("file", _("文件超过10MB,请分批导入"))
        else:
            report = register_import(
                user=user_of(request), data=upload.read(MAX_BYTES + 1), request=request, filename=upload.name
            )
            if report.committed:
                messages.success(
                    request,
                    _("导入成功:%(r)d 位居民,新建 %(h)d 户,用时 %(s).1f 秒。")
                    % {
                        "r": report.residents_created + report.residents_returned,
                        "h": report.households_created,
                        "s": report.seconds,
                    },
                )
    status = 400 if request.method == "POST" and (report is None or not report.committed) else 200
    context = {"form": form, "report": report, "columns": [label for _key, label in COLUMNS]}
    return render(request, "people/import.html", context, status=status)


def import_template(request: HttpRequest) -> HttpResponse:
    """An empty sheet with the import's headers, the ID and phone columns pre-formatted as text."""
    if (early := gate(request, Capability.PEOPLE_EDIT)) is not None:
        return early
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("居民登记")
    for index, (key, label) in enumerate(COLUMNS, start=1):
        sheet.cell(row=1, column=index, value=label)
        if key in {"building_code", "unit_no", "room", "id_number", "phone"}:
            letter = sheet.cell(row=1, column=index).column_letter
            for row in range(2, 1002):  # text format on the first 1000 data rows: typed IDs stay text
                sheet[f"{letter}{row}"].number_format = "@"
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="register-template.xlsx"'
    return response


@require_POST
def export(request: HttpRequest) -> HttpResponse:
    """The register as .xlsx (masked unless reveal rights AND a reason); exactly one audit row."""
    if (early := gate(request, Capability.PEOPLE_EXPORT)) is not None:
        return early
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("导出参数不正确。"))
        return redirect("people:register")
    d = form.cleaned_data
    status = d["status"] if d["status"] in {"", *ResidentStatus.values} else ResidentStatus.PRESENT
    filters = RegisterFilters(
        grid_id=int_or_none(d["grid"]), building_id=int_or_none(d["building"]), status=status
    )
    try:
        result = register_export(
            user=user_of(request), filters=filters, reveal_reason=d["reason"], request=request
        )
    except PeopleError as exc:
        messages.error(request, exc.message)
        return redirect("people:register")
    response = HttpResponse(result.content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    response["Cache-Control"] = "no-store"
    return response
