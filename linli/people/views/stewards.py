"""Steward pages: the registry (staff, scoped), one steward's card with recruitment actions, buildings
and photo; and the public 三亮 card of a building (``/people/building/<code>/card/``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.people.access import for_capability, may
from linli.people.errors import PeopleError
from linli.people.forms import StewardForm, StewardPhotoForm, TransitionForm
from linli.people.models import Steward, StewardKind, StewardStatus
from linli.people.presenters import steward_public, steward_row
from linli.people.selectors.households import buildings_for_user
from linli.people.selectors.stewards import StewardFilters, building_card, steward_for_user, stewards_for_user
from linli.people.services import (
    steward_buildings_set,
    steward_photo_set,
    steward_register,
    steward_transition,
)
from linli.people.transitions import TRANSITIONS, actions_from
from linli.people.views.common import gate, missing, user_of
from linli.places.models import Level, Region
from linli.security.denials import ScopeDenied
from linli.security.qr import qr_svg
from linli.security.uploads import serve_upload

PAGE = 50


def _communities(user: Any) -> list[tuple[int, str]]:
    qs = for_capability(Region.objects.filter(level=Level.COMMUNITY), user, Capability.STEWARDS_MANAGE)
    return [(r.pk, r.name) for r in qs.order_by("path")[:500]]


@require_http_methods(["GET", "POST"])
def stewards(request: HttpRequest) -> HttpResponse:
    """The registry with filters; POST registers a recruit (status "applied")."""
    if (early := gate(request, Capability.VIEW_PEOPLE)) is not None:
        return early
    user = user_of(request)
    manage = user_has_capability(user, Capability.STEWARDS_MANAGE)
    communities = _communities(user) if manage else []
    form = StewardForm(request.POST or None, communities=communities)
    if request.method == "POST":
        if not manage:
            raise ScopeDenied(reason="no_capability")  # audited (AUD-1), answered as a missing page
        if form.is_valid():
            d = form.cleaned_data
            community = Region.objects.get(pk=int(d["community"]))
            try:
                created = steward_register(
                    actor=user,
                    kind=d["kind"],
                    name=d["name"],
                    community=community,
                    duty=d["duty"],
                    duty_phone=d["duty_phone"],
                    organisation=d["organisation"],
                )
            except PeopleError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("已登记,待联审。"))
                return redirect("people:steward", steward_id=created.pk)
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    filters = StewardFilters(
        kind=kind if kind in StewardKind.values else "",
        status=status if status in StewardStatus.values else "",
    )
    page = Paginator(stewards_for_user(user, filters), PAGE).get_page(request.GET.get("page"))
    context = {
        "rows": [steward_row(s) for s in page.object_list],
        "page": page,
        "form": form,
        "manage": manage,
        "kinds": StewardKind.choices,
        "statuses": StewardStatus.choices,
        "kind": filters.kind,
        "status": filters.status,
    }
    return render(request, "people/stewards.html", context, status=400 if request.method == "POST" else 200)


def _steward_context(request: HttpRequest, steward: Steward) -> dict[str, Any]:
    user = user_of(request)
    manage = may(user, Capability.STEWARDS_MANAGE, steward)
    chosen = {b.pk for b in steward.buildings.all()}
    buildings = []
    if manage:
        in_community = buildings_for_user(user, Capability.STEWARDS_MANAGE).filter(
            path__startswith=steward.region_path
        )
        buildings = [(b, b.pk in chosen) for b in in_community[:500]]
    return {
        "steward": steward,
        "row": steward_row(steward),
        "manage": manage,
        "actions": [(a, TRANSITIONS[a].label) for a in actions_from(steward.status)] if manage else [],
        "events": list(steward.events.all()),
        "buildings": buildings,
        "assigned": list(steward.buildings.all()),
        "transition_form": TransitionForm(),
        "photo_form": StewardPhotoForm(),
    }


@require_http_methods(["GET", "POST"])
def steward(request: HttpRequest, steward_id: int) -> HttpResponse:
    """One steward; POST (section=transition|buildings|photo) for those who manage stewards in scope."""
    if (early := gate(request, Capability.VIEW_PEOPLE)) is not None:
        return early
    user = user_of(request)
    found = steward_for_user(user, steward_id)
    if found is None:
        missing(Steward, steward_id)
    if request.method == "POST":
        if not may(user, Capability.STEWARDS_MANAGE, found):
            missing(Steward, steward_id)
        section = request.POST.get("section", "")
        try:
            if section == "transition":
                form = TransitionForm(request.POST)
                if form.is_valid():
                    steward_transition(
                        steward_id=found.pk,
                        action=form.cleaned_data["action"],
                        actor=user,
                        note=form.cleaned_data["note"],
                    )
                    messages.success(request, _("状态已更新。"))
            elif section == "buildings":
                ids = [int(v) for v in request.POST.getlist("buildings") if v.isdigit()]
                steward_buildings_set(steward_id=found.pk, building_ids=ids)
                messages.success(request, _("负责楼栋已保存。"))
            elif section == "photo":
                photo_form = StewardPhotoForm(request.POST, request.FILES)
                if photo_form.is_valid():
                    steward_photo_set(steward_id=found.pk, file=photo_form.cleaned_data["photo"])
                    messages.success(request, _("照片已更新(已去除拍摄位置等信息)。"))
                else:
                    messages.error(request, _("请选择照片。"))
            else:
                messages.error(request, _("无法识别的操作。"))
        except PeopleError as exc:
            messages.error(request, exc.message)
        return redirect("people:steward", steward_id=found.pk)
    return render(request, "people/steward.html", _steward_context(request, found))


def steward_photo(request: HttpRequest, steward_id: int) -> HttpResponseBase:
    """A steward's photo: public while ACTIVE (三亮), otherwise only for staff who see the steward."""
    found = Steward.objects.filter(pk=steward_id).first()
    if found is None or not found.photo:
        raise Http404
    allowed = found.is_public or (
        request.user.is_authenticated and Steward.objects.for_user(request.user).filter(pk=found.pk).exists()
    )
    return serve_upload(request, found.photo, allowed=allowed)


def card(request: HttpRequest, code: str) -> HttpResponse:
    """The public 三亮 card of a building (residents scan the building QR code to reach it)."""
    found = building_card(code[:40])
    if found is None:
        raise Http404
    context = {
        "card": found,
        "grid_workers": [steward_public(s) for s in found.grid_workers],
        "stewards": [steward_public(s) for s in found.stewards],
    }
    return render(request, "people/card.html", context)


def card_qr(request: HttpRequest, building_id: int) -> HttpResponse:
    """A printable page with the QR code of a building's card (staff in scope)."""
    if (early := gate(request, Capability.VIEW_PEOPLE)) is not None:
        return early
    found = buildings_for_user(user_of(request)).filter(pk=building_id).first()
    if found is None:
        missing(Region, building_id)
    url = request.build_absolute_uri(reverse("people:card", args=[found.code]))
    return render(request, "people/card_qr.html", {"building": found, "url": url, "qr": qr_svg(url)})
