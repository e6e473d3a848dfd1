"""Station pages: the public finder and detail (mobile-first), and the staff list, editor and coverage map."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.catalog.models import ServiceItem
from linli.core.scoping import may_view
from linli.security.uploads import serve_upload
from linli.stations.forms import (
    ChecklistForm,
    HoursForm,
    MenuAddForm,
    NearbyForm,
    PartnerForm,
    PhotoForm,
    SitingForm,
    StationInfoForm,
)
from linli.stations.hours import schedule_of
from linli.stations.index import get_station_index
from linli.stations.models import ChecklistItem, MenuTier, StationKind, StationPhoto
from linli.stations.planning import coverage_for_user, siting_for_user
from linli.stations.presenters import hours_table, station_summary_dict
from linli.stations.selectors import (
    station_for_edit,
    station_may_edit,
    station_public,
    stations_for_user,
    stations_public,
)
from linli.stations.services import (
    StationError,
    station_checklist_set,
    station_hours_replace,
    station_menu_remove,
    station_menu_set,
    station_partner_delete,
    station_partner_save,
    station_photo_add,
    station_photo_delete,
    station_update,
)
from linli.stations.walking import walk_metres, walk_minutes

NEARBY_K = 20


def _offered_items() -> list[ServiceItem]:
    """Items some published station offers: the choices of the service filter."""
    return list(
        ServiceItem.objects.filter(is_active=True, offers__is_active=True, offers__station__is_published=True)
        .distinct()
        .order_by("sort_order", "code")
    )


def nearby(request: HttpRequest) -> HttpResponse:
    """Find a station: nearest first when the page knows where you are, else every station."""
    form = NearbyForm(request.GET or None)
    index = get_station_index()
    now = timezone.now()
    item_id = None
    rows: list[dict[str, Any]] = []
    located = False
    service, open_now = "", False
    if form.is_valid():
        service = form.cleaned_data["service"].strip()
        open_now = form.cleaned_data["open_now"]
        if service:
            item_id = index.item_id(service)
            if item_id is None:
                messages.error(request, _("没有找到这项服务,已显示全部阵地。"))
        lat, lng = form.cleaned_data["lat"], form.cleaned_data["lng"]
        if lat is not None and lng is not None:
            located = True
            try:
                from linli.places.geometry import GeometryError, validate_lat_lng

                validate_lat_lng(lat, lng)
                hits = index.nearest(lat, lng, k=NEARBY_K, item_id=item_id, open_at=now if open_now else None)
            except GeometryError as exc:
                messages.error(request, exc.message)
                hits, located = [], False
            for h in hits:
                rows.append(
                    {
                        "id": h.entry.id,
                        "name": h.entry.name,
                        "kind_label": StationKind(h.entry.kind).label,
                        "address": h.entry.address,
                        "open_now": h.open_now,
                        "weekend_open": h.entry.schedule.weekend_open,
                        "extended_hours": h.entry.schedule.extended,
                        "is_24h": h.entry.schedule.is_24h,
                        "walk_m": round(walk_metres(h.distance_m)),
                        "walk_minutes": max(1, round(walk_minutes(h.distance_m))),
                        "url": reverse("stations:detail", kwargs={"station_id": h.entry.id}),
                    }
                )
    page = None
    if not located:
        all_rows = [station_summary_dict(s, now) for s in stations_public(item_id=item_id)]
        if open_now:
            all_rows = [r for r in all_rows if r["open_now"]]
        page = Paginator(all_rows, 30).get_page(request.GET.get("page"))
        rows = list(page.object_list)
    context = {
        "rows": rows,
        "page": page,
        "located": located,
        "service": service,
        "open_now": open_now,
        "items": _offered_items(),
        "nearest_url": reverse("api:stations_nearest"),
        "layer_url": reverse("api:stations_layer"),
        "tile_url": settings.LINLI_MAP_TILE_URL,
        "tile_attribution": settings.LINLI_MAP_TILE_ATTRIBUTION,
    }
    return render(request, "stations/nearby.html", context)


def detail(request: HttpRequest, station_id: int) -> HttpResponse:
    station = station_public(station_id=station_id)
    if station is None:
        raise Http404
    schedule = schedule_of(station)
    now = timezone.now()
    menu = list(station.active_menu)  # type: ignore[attr-defined]
    checklist = {c.item: c for c in station.checklist.all()}
    context = {
        "station": station,
        "summary": station_summary_dict(station, now, schedule),
        "hours": hours_table(schedule),
        "basic_menu": [m for m in menu if m.tier == MenuTier.BASIC],
        "featured_menu": [m for m in menu if m.tier == MenuTier.FEATURED],
        "checklist": [(label, checklist.get(value)) for value, label in ChecklistItem.choices],
        "partners": [p for p in station.partners.all() if p.is_active],
        "photos": list(station.photos.all()),
        "may_edit": request.user.is_authenticated and station_may_edit(user=request.user, station=station),
    }
    return render(request, "stations/detail.html", context)


def photo(request: HttpRequest, station_id: int, photo_id: int) -> HttpResponseBase:
    """A station photo: public for published stations, else only for staff who may see the station."""
    row = StationPhoto.objects.select_related("station").filter(pk=photo_id, station_id=station_id).first()
    if row is None:
        raise Http404
    allowed = row.station.is_published or may_view(request.user, row.station)
    return serve_upload(request, row.file, allowed=allowed)


# --- staff ------------------------------------------------------------------------------------------
def _staff(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not user_has_capability(request.user, Capability.STATIONS_VIEW):
        raise Http404
    return None


def manage(request: HttpRequest) -> HttpResponse:
    if (early := _staff(request)) is not None:
        return early
    stations = stations_for_user(user=request.user).prefetch_related("checklist")
    rows = []
    for s in stations:
        met = sum(1 for c in s.checklist.all() if c.met)
        rows.append({"station": s, "met": met, "may_edit": station_may_edit(user=request.user, station=s)})
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "stations/manage.html", {"page": page, "total_items": len(ChecklistItem.values)})


def _edit_context(station: Any, **forms: Any) -> dict[str, Any]:
    checklist = {c.item: c for c in station.checklist.all()}
    # A partner's edit form that failed validation is shown bound (with its errors), the others fresh.
    failed_id, failed_form = forms.get("partner_edit") or (None, None)
    partners = list(station.partners.all())
    return {
        "station": station,
        "info_form": forms.get("info_form") or StationInfoForm(instance=station, prefix="info"),
        "hours_form": forms.get("hours_form") or HoursForm(station=station, prefix="hours"),
        "menu_form": forms.get("menu_form") or MenuAddForm(prefix="menu"),
        "photo_form": forms.get("photo_form") or PhotoForm(prefix="photo"),
        "menu": list(station.menu.select_related("item").order_by("tier", "sort_order", "item__sort_order")),
        "checklist": [(value, label, checklist.get(value)) for value, label in ChecklistItem.choices],
        "photos": list(station.photos.all()),
        "partners": [(p, failed_form if p.pk == failed_id else PartnerForm.for_partner(p)) for p in partners],
        "partner_add_form": forms.get("partner_add_form") or PartnerForm(prefix="partner-new"),
    }


def _post_id(request: HttpRequest, name: str) -> int:
    """A positive integer id from the POST body, else 0 (matches no row)."""
    raw = request.POST.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else 0


@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, station_id: int) -> HttpResponse:
    """Edit a station within the user's scope: info, hours, menu, 七有, photos, partners (one section per
    POST). A station outside the scope, or a partner or photo that is not this station's, answers 404."""
    if (early := _staff(request)) is not None:
        return early
    station = station_for_edit(user=request.user, station_id=station_id)
    if station is None:
        raise Http404
    if request.method == "GET":
        return render(request, "stations/edit.html", _edit_context(station))
    section = request.POST.get("section", "")
    forms: dict[str, Any] = {}
    try:
        if section == "info":
            form = StationInfoForm(request.POST, instance=station, prefix="info")
            forms["info_form"] = form
            if form.is_valid():
                station_update(
                    station=station,
                    changes={f: form.cleaned_data[f] for f in form.changed_data},
                    actor=request.user,  # type: ignore[arg-type]
                    request=request,
                )
                messages.success(request, _("基本信息已保存。"))
                return redirect("stations:edit", station_id=station.id)
        elif section == "hours":
            hours = HoursForm(request.POST, prefix="hours")
            forms["hours_form"] = hours
            if hours.is_valid():
                periods = hours.periods()
                if hours.is_valid():  # parse errors were added per day
                    station_hours_replace(
                        station=station,
                        periods=periods,
                        is_24h=hours.cleaned_data["is_24h"],
                        open_on_holidays=hours.cleaned_data["open_on_holidays"],
                        hours_note=hours.cleaned_data["hours_note"],
                        actor=request.user,  # type: ignore[arg-type]
                        request=request,
                    )
                    messages.success(request, _("开放时间已保存。"))
                    return redirect("stations:edit", station_id=station.id)
        elif section == "menu_add":
            menu_form = MenuAddForm(request.POST, prefix="menu")
            forms["menu_form"] = menu_form
            if menu_form.is_valid():
                d = menu_form.cleaned_data
                station_menu_set(
                    station=station,
                    item=d["item"],
                    tier=d["tier"],
                    note=d["note"],
                    actor=request.user,  # type: ignore[arg-type]
                    request=request,
                )
                messages.success(request, _("已加入服务菜单。"))
                return redirect("stations:edit", station_id=station.id)
        elif section == "menu_remove":
            line = station.menu.filter(pk=request.POST.get("line_id") or 0).select_related("item").first()
            if line is not None:
                station_menu_remove(
                    station=station,
                    item=line.item,
                    actor=request.user,  # type: ignore[arg-type]
                    request=request,
                )
                messages.success(request, _("已从服务菜单移除。"))
            return redirect("stations:edit", station_id=station.id)
        elif section == "checklist":
            check = ChecklistForm(request.POST)
            if check.is_valid():
                d = check.cleaned_data
                station_checklist_set(
                    station=station,
                    item=d["item"],
                    met=d["met"],
                    evidence=d["evidence"],
                    user=request.user,  # type: ignore[arg-type]
                    request=request,
                )
                messages.success(request, _("“七有”核查已保存。"))
            else:
                messages.error(request, _("核查项目不正确。"))
            return redirect("stations:edit", station_id=station.id)
        elif section == "photo":
            photo_form = PhotoForm(request.POST, request.FILES, prefix="photo")
            forms["photo_form"] = photo_form
            if photo_form.is_valid():
                station_photo_add(
                    station=station,
                    file=photo_form.cleaned_data["file"],
                    caption=photo_form.cleaned_data["caption"],
                    user=request.user,  # type: ignore[arg-type]
                    request=request,
                )
                messages.success(request, _("照片已上传(已去除拍摄位置等信息)。"))
                return redirect("stations:edit", station_id=station.id)
        elif section == "photo_remove":
            if request.POST.get("confirm") != "on":
                messages.error(request, _("请先勾选“确认删除”。"))
                return redirect("stations:edit", station_id=station.id)
            removed = station_photo_delete(
                station=station,
                photo_id=_post_id(request, "photo_id"),
                actor=request.user,  # type: ignore[arg-type]
                request=request,
            )
            if not removed:
                raise Http404
            messages.success(request, _("照片已删除。"))
            return redirect("stations:edit", station_id=station.id)
        elif section == "partner_add":
            add_form = PartnerForm(request.POST, prefix="partner-new")
            forms["partner_add_form"] = add_form
            if add_form.is_valid():
                station_partner_save(
                    station=station,
                    **add_form.cleaned_data,
                    actor=request.user,  # type: ignore[arg-type]
                    request=request,
                )
                messages.success(request, _("共建单位已添加。"))
                return redirect("stations:edit", station_id=station.id)
        elif section == "partner_edit":
            partner = station.partners.filter(pk=_post_id(request, "partner_id")).first()
            if partner is None:
                raise Http404
            edit_form = PartnerForm(request.POST, prefix=f"partner-{partner.pk}")
            forms["partner_edit"] = (partner.pk, edit_form)
            if edit_form.is_valid():
                station_partner_save(
                    station=station,
                    partner=partner,
                    **edit_form.cleaned_data,
                    actor=request.user,  # type: ignore[arg-type]
                    request=request,
                )
                messages.success(request, _("共建单位已保存。"))
                return redirect("stations:edit", station_id=station.id)
        elif section == "partner_remove":
            removed = station_partner_delete(
                station=station,
                partner_id=_post_id(request, "partner_id"),
                actor=request.user,  # type: ignore[arg-type]
                request=request,
            )
            if not removed:
                raise Http404
            messages.success(request, _("共建单位已移除。"))
            return redirect("stations:edit", station_id=station.id)
        else:
            messages.error(request, _("无法识别的操作。"))
            return redirect("stations:edit", station_id=station.id)
    except StationError as exc:
        messages.error(request, exc.message)
    station = station_for_edit(user=request.user, station_id=station_id)
    return render(request, "stations/edit.html", _edit_context(station, **forms), status=400)


@require_http_methods(["GET", "POST"])
def coverage(request: HttpRequest) -> HttpResponse:
    """Coverage of the estates in scope, uncovered estates, and (on request) a siting suggestion."""
    if (early := _staff(request)) is not None:
        return early
    report = coverage_for_user(user=request.user)  # type: ignore[arg-type]
    form = SitingForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = siting_for_user(
            user=request.user,  # type: ignore[arg-type]
            k=form.cleaned_data["k"],
            minutes=form.cleaned_data["minutes"],
        )
    uncovered = sorted(report.uncovered(15), key=lambda r: -r.estate.population)
    context = {
        "report": report,
        "share5": report.share(5) * 100,
        "share15": report.share(15) * 100,
        "uncovered": uncovered[:100],
        "uncovered_count": len(uncovered),
        "form": form,
        "result": result,
        "coverage_url": reverse("api:stations_coverage"),
        "layer_url": reverse("api:stations_layer"),
        "tile_url": settings.LINLI_MAP_TILE_URL,
        "tile_attribution": settings.LINLI_MAP_TILE_ATTRIBUTION,
    }
    return render(request, "stations/coverage.html", context)
