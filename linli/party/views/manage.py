"""Staff pages (workbench): the organisation tree, check-in queue and its actions, members, volunteers, the
hours ledger (record, correct) and certificates. Names are masked unless the viewer may reveal; phones
always are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.party import selectors
from linli.party.access import party_manages
from linli.party.errors import PartyError
from linli.party.forms import ConfirmForm, CorrectionForm, FulfilForm, HoursForm, NoteForm
from linli.party.models import CheckInStatus, Commitment, OrgKind, PartyOrg, VolunteerTeam
from linli.party.presenters import shown_name, shown_phone
from linli.party.services import (
    certificate_issue,
    checkin_activate,
    checkin_confirm,
    checkin_reject,
    checkin_withdraw,
    commitment_fulfil,
    hours_correct,
    hours_record,
)
from linli.party.views.common import user_of

PAGE_SIZE = 50


def _viewer(request: HttpRequest) -> Any:
    user = user_of(request)
    if not user_has_capability(user, Capability.PARTY_VIEW):
        raise Http404
    return user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    context = {
        "tree": selectors.org_tree_for_user(user),
        "members": selectors.members_for_user(user).count(),
        "waiting": selectors.checkins_for_user(user, status=CheckInStatus.REGISTERED).count(),
        "active": selectors.checkins_for_user(user, status=CheckInStatus.ACTIVE).count(),
        "volunteers": selectors.volunteers_for_user(user).count(),
        "teams": VolunteerTeam.objects.for_user(user).filter(is_active=True).order_by("name")[:100],
    }
    return render(request, "party/manage_home.html", context)


@login_required
def checkins(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    status = request.GET.get("status", CheckInStatus.REGISTERED)
    if status not in CheckInStatus.values:
        status = ""
    page = Paginator(selectors.checkins_for_user(user, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    orgs_of: dict[str, list[PartyOrg]] = {}  # one query per community on the page, not one per row
    rows = []
    for c in page:
        if c.region_path not in orgs_of:
            orgs_of[c.region_path] = list(
                PartyOrg.objects.filter(
                    region_path__startswith=c.region_path,
                    kind__in=[OrgKind.COMMITTEE, OrgKind.BRANCH, OrgKind.GROUP],
                )
            )
        rows.append(
            {
                "c": c,
                "name": shown_name(user, c.member),
                "phone": shown_phone(c.member),
                "manage": party_manages(user, c.region_path),
                "orgs": orgs_of[c.region_path],
            }
        )
    context = {"page": page, "rows": rows, "status": status, "statuses": CheckInStatus.choices}
    return render(request, "party/manage_checkins.html", context)


ACTIONS: dict[str, Callable[..., Any]] = {
    "confirm": lambda cid, actor, form: checkin_confirm(
        check_in_id=cid,
        actor=actor,
        assigned_org_id=form.cleaned_data["assigned_org"].pk
        if form.cleaned_data.get("assigned_org")
        else None,
        note=form.cleaned_data["note"],
    ),
    "reject": lambda cid, actor, form: checkin_reject(
        check_in_id=cid, actor=actor, note=form.cleaned_data["note"]
    ),
    "activate": lambda cid, actor, form: checkin_activate(
        check_in_id=cid, actor=actor, note=form.cleaned_data["note"]
    ),
    "withdraw": lambda cid, actor, form: checkin_withdraw(
        check_in_id=cid, actor=actor, note=form.cleaned_data["note"]
    ),
}


@login_required
@require_POST
def checkin_act(request: HttpRequest, check_in_id: int, action: str) -> HttpResponse:
    user = _viewer(request)
    found = selectors.checkin_for_user(user, check_in_id)
    if action not in ACTIONS:
        raise Http404
    orgs = PartyOrg.objects.filter(region_path__startswith=found.region_path)
    form = ConfirmForm(request.POST, orgs=orgs) if action == "confirm" else NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "输入不正确")
    else:
        try:
            ACTIONS[action](found.pk, user, form)
        except PartyError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已处理。")
    back = request.POST.get("back", "")
    return redirect(reverse("party:checkins") + (f"?status={back}" if back in CheckInStatus.values else ""))


@login_required
@require_POST
def commitment_fulfil_view(request: HttpRequest, commitment_id: int) -> HttpResponse:
    """践诺 of one commitment; with hours, they are credited to the member's volunteer ledger at once."""
    user = _viewer(request)
    check_in_id = Commitment.objects.filter(pk=commitment_id).values_list("check_in_id", flat=True).first()
    if check_in_id is None:
        raise Http404
    selectors.checkin_for_user(user, check_in_id)  # out of scope: an audited 404
    form = FulfilForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写践诺情况;时长应在0.25到24小时之间")
    else:
        d = form.cleaned_data
        try:
            commitment_fulfil(
                commitment_id=commitment_id, actor=user, note=d["note"], hours=d["hours"],
                served_on=d["served_on"],
            )  # fmt: skip
        except PartyError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已记录践诺。" + ("服务时长已记入志愿服务台账。" if d["hours"] else ""))
    return redirect(reverse("party:checkins") + f"?status={CheckInStatus.ACTIVE}")


@login_required
def members(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    query = request.GET.get("q", "").strip()[:20]
    page = Paginator(selectors.members_for_user(user, query=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [{"m": m, "name": shown_name(user, m), "phone": shown_phone(m)} for m in page]
    return render(request, "party/manage_members.html", {"page": page, "rows": rows, "q": query})


@login_required
def volunteers(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    query = request.GET.get("q", "").strip()[:20]
    page = Paginator(selectors.volunteers_for_user(user, query=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [{"v": v, "name": shown_name(user, v), "phone": shown_phone(v)} for v in page]
    return render(request, "party/manage_volunteers.html", {"page": page, "rows": rows, "q": query})


@login_required
def volunteer(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    user = _viewer(request)
    found = selectors.volunteer_for_user(user, volunteer_id)
    context = {
        "v": found,
        "name": shown_name(user, found),
        "ledger": selectors.volunteer_ledger(found),
        "manage": party_manages(user, found.region_path),
        "correction_form": CorrectionForm(),
        "certificates": list(found.certificates.all()[:20]),
    }
    return render(request, "party/manage_volunteer.html", context)


@login_required
def hours_new(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    if not user_has_capability(user, Capability.PARTY_MANAGE):
        raise Http404
    volunteers_qs = selectors.volunteers_for_user(user).order_by("name")
    form = HoursForm(
        request.POST or None,
        volunteers=volunteers_qs,
        teams=VolunteerTeam.objects.for_user(user).filter(is_active=True).order_by("name"),
        initial={"volunteer": request.GET.get("volunteer")},
    )
    form.fields["volunteer"].label_from_instance = lambda v: shown_name(user, v)  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = hours_record(
                actor=user,
                volunteer_id=data["volunteer"].pk,
                hours=data["hours"],
                served_on=data["served_on"],
                title=data["title"],
                source=data["source"],
                source_ref=data["source_ref"],
                team_id=data["team"].pk if data["team"] else None,
            )
        except PartyError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "已登记。" if result.created else "该来源的时长已登记过,未重复记入。")
            return redirect("party:volunteer", volunteer_id=data["volunteer"].pk)
    return render(request, "party/manage_hours_new.html", {"form": form}, status=422 if form.errors else 200)


@login_required
@require_POST
def hours_correct_view(request: HttpRequest, volunteer_id: int, entry_id: int) -> HttpResponse:
    user = _viewer(request)
    found = selectors.volunteer_for_user(user, volunteer_id)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写扣减时长和原因")
    elif not found.hours.filter(pk=entry_id).exists():
        raise Http404
    else:
        try:
            hours_correct(
                actor=user,
                entry_id=entry_id,
                hours=form.cleaned_data["hours"],
                reason=form.cleaned_data["reason"],
            )
        except PartyError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已登记更正。")
    return redirect("party:volunteer", volunteer_id=found.pk)


@login_required
@require_POST
def certificate_issue_view(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    user = _viewer(request)
    found = selectors.volunteer_for_user(user, volunteer_id)
    try:
        certificate = certificate_issue(actor=user, volunteer_id=found.pk)
    except PartyError as exc:
        messages.error(request, exc.message)
        return redirect("party:volunteer", volunteer_id=found.pk)
    return redirect("party:certificate", certificate_id=certificate.pk)
