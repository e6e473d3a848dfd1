"""Staff pages of organisations: the list (filters by kind and incubation stage), registering one, an
organisation's page with its incubation timeline, the pipeline's next steps and its representatives
(组织联络人, who claim projects themselves)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.roles import Capability
from linli.needs import selectors
from linli.needs.errors import NeedsError
from linli.needs.forms import IncubationForm, OrganisationForm, OrgFilterForm, RepresentativeForm
from linli.needs.models import OrgKind
from linli.needs.services import (
    organisation_create,
    organisation_incubate,
    organisation_member_add,
    organisation_member_remove,
)
from linli.needs.transitions import INCUBATION_FLOW, INCUBATION_TRANSITIONS, actions_for
from linli.needs.views.common import is_htmx, paginate, query_without_page, staff_view, timeline, user_of
from linli.security.masking import mask_name, mask_phone


@staff_view()
def orgs_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form = OrgFilterForm(request.GET or None)
    filters = selectors.OrgFilters()
    if form.is_valid():
        d = form.cleaned_data
        filters = selectors.OrgFilters(kind=d["kind"], stage=d["stage"], q=d["q"].strip())
    page = paginate(request, selectors.organisations_for_user(user=user, filters=filters))
    context = {"form": form, "page": page, "query": query_without_page(request)}
    if is_htmx(request):
        return render(request, "needs/orgs_list.html#rows", context)
    return render(request, "needs/orgs_list.html", context)


@staff_view(Capability.NEEDS_MANAGE)
@require_http_methods(["GET", "POST"])
def org_new(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form = OrganisationForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            org = organisation_create(
                actor=user, **{("region_id" if k == "region" else k): v for k, v in d.items()}
            )
        except NeedsError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "组织已登记。")
            return redirect("needs:org", organisation_id=org.pk)
    return render(request, "needs/org_new.html", {"form": form}, status=400 if form.errors else 200)


@staff_view()
def org_detail(request: HttpRequest, organisation_id: int) -> HttpResponse:
    user = user_of(request)
    org = selectors.organisation_for_user(user=user, organisation_id=organisation_id)
    if org is None:
        raise Http404
    may_manage = selectors.user_may_manage(user=user, region_path=org.region_path)
    steps = actions_for(INCUBATION_FLOW, org) if may_manage and org.kind == OrgKind.SOCIAL_ORG else []
    context = {
        "org": org,
        "may_manage": may_manage,
        "steps": steps,
        "form": IncubationForm(),
        "events": timeline(
            INCUBATION_FLOW, org.events.select_related("actor").order_by("occurred_on", "created_at", "id")
        ),
        "resources": list(org.resources.order_by("-created_at")[:50]),
        "projects": list(org.projects.order_by("-created_at")[:50]),
        "contact_name": mask_name(org.contact_name),
        "contact_phone": mask_phone(org.contact_phone),
        # Representatives' names and phones are masked like every contact (PI-2).
        "representatives": [
            {"m": m, "name": mask_name(m.user.display_name or "联络人"), "phone": mask_phone(m.user.phone)}
            for m in selectors.organisation_members(organisation=org)
        ],
        "representative_form": RepresentativeForm() if may_manage else None,
    }
    response = render(request, "needs/org_detail.html", context)
    response["Cache-Control"] = "no-store"
    return response


@staff_view(Capability.NEEDS_MANAGE)
@require_POST
def org_incubate(request: HttpRequest, organisation_id: int, action: str) -> HttpResponse:
    if action not in INCUBATION_TRANSITIONS:
        raise Http404
    form = IncubationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "日期或金额格式不正确。")
        return redirect("needs:org", organisation_id=organisation_id)
    d = form.cleaned_data
    try:
        organisation_incubate(
            actor=user_of(request), organisation_id=organisation_id, action=action, note=d["note"],
            occurred_on=d["occurred_on"], credit_code=d["credit_code"], amount_yuan=d["amount_yuan"],
        )  # fmt: skip
    except NeedsError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "孵化进度已记录。")
    return redirect("needs:org", organisation_id=organisation_id)


@staff_view(Capability.NEEDS_MANAGE)
@require_POST
def org_representative_add(request: HttpRequest, organisation_id: int) -> HttpResponse:
    form = RepresentativeForm(request.POST)
    try:
        if not form.is_valid():
            raise NeedsError("invalid_phone", "请填写联络人的手机号。")
        organisation_member_add(
            actor=user_of(request),
            organisation_id=organisation_id,
            phone=form.cleaned_data["phone"],
            request=request,
        )
    except NeedsError as exc:
        if exc.code == "not_found":
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "已添加联络人,其登录后即可为组织认领项目。")
    return redirect("needs:org", organisation_id=organisation_id)


@staff_view(Capability.NEEDS_MANAGE)
@require_POST
def org_representative_remove(request: HttpRequest, organisation_id: int, member_id: int) -> HttpResponse:
    org = selectors.organisation_for_user(user=user_of(request), organisation_id=organisation_id)
    if org is None or not org.members.filter(pk=member_id).exists():
        raise Http404
    try:
        organisation_member_remove(actor=user_of(request), member_id=member_id, request=request)
    except NeedsError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "已移除联络人。")
    return redirect("needs:org", organisation_id=organisation_id)
