"""Staff pages of the needs list: filters (htmx), filing a need, a need's page with its suggested resources
(accept / reject), manual state changes, revealing the contact phone (reason, audited), CSV export."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.roles import Capability
from linli.core.scoping import may_view
from linli.needs import selectors
from linli.needs.errors import NeedsError
from linli.needs.forms import NeedFilterForm, NeedForm, NoteForm, RejectForm
from linli.needs.matching import need_suggestions
from linli.needs.models import MatchStatus, Need, NeedStatus
from linli.needs.services import match_accept, match_reject, match_release, need_act, need_create
from linli.needs.transitions import NEED_FLOW, actions_for
from linli.needs.views.common import is_htmx, paginate, query_without_page, staff_view, timeline, user_of
from linli.security.audit import audit_record
from linli.security.masking import mask_name, mask_phone, mask_text
from linli.security.models import AuditResult
from linli.security.reveal import RevealError, may_reveal, pii_reveal

MANUAL_ACTIONS = ("meet", "close", "reopen")
EXPORT_MAX = 20_000


def _filters(request: HttpRequest, user: Any) -> tuple[NeedFilterForm, selectors.NeedFilters]:
    form = NeedFilterForm(request.GET or None, communities=selectors.communities_visible(user=user))
    if form.is_valid():
        d = form.cleaned_data
        return form, selectors.NeedFilters(
            status=d["status"], category=d["category"], urgency=d["urgency"], source_kind=d["source_kind"],
            community_id=d["community"], q=d["q"].strip(),
        )  # fmt: skip
    return form, selectors.NeedFilters()


@staff_view()
def needs_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form, filters = _filters(request, user)
    page = paginate(request, selectors.needs_for_user(user=user, filters=filters))
    context = {"form": form, "page": page, "query": query_without_page(request)}
    if is_htmx(request):
        return render(request, "needs/needs_list.html#rows", context)
    return render(request, "needs/needs_list.html", context)


@staff_view(Capability.NEEDS_REPORT)
@require_http_methods(["GET", "POST"])
def need_new(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    initial: dict[str, Any] = {
        "source_case": request.GET.get("case"),
        "source_visit": request.GET.get("visit"),
    }
    if request.GET.get("visit"):
        initial["source_kind"] = "visit"
    form = NeedForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            need = need_create(
                actor=user, title=d["title"], category=d["category"], source_kind=d["source_kind"],
                region_id=d["region"], beneficiaries=d["beneficiaries"], urgency=d["urgency"],
                description=d["description"], source_case_id=d["source_case"],
                source_visit_id=d["source_visit"], source_ref=d["source_ref"],
                contact_name=d["contact_name"], contact_phone=d["contact_phone"],
            )  # fmt: skip
        except NeedsError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "需求已登记。")
            return redirect("needs:need", need_id=need.pk)
    return render(request, "needs/need_new.html", {"form": form}, status=400 if form.errors else 200)


def _matching_context(request: HttpRequest, need: Need, *, error: str = "") -> dict[str, Any]:
    user = user_of(request)
    may_manage = selectors.user_may_manage(user=user, region_path=need.region_path)
    suggestions = []
    if may_manage and need.status in (NeedStatus.OPEN, NeedStatus.MATCHED):
        suggestions = need_suggestions(need=need, limit=20)
    return {
        "need": need,
        "may_manage": may_manage,
        "suggestions": suggestions,
        "matching_open": need.status in (NeedStatus.OPEN, NeedStatus.MATCHED),
        "matches": selectors.need_matches(need=need),
        "reject_form": RejectForm(),
        "error": error,
    }


def _need_or_404(request: HttpRequest, need_id: int) -> Need:
    need = selectors.need_for_user(user=user_of(request), need_id=need_id)
    if need is None:
        raise Http404
    return need


@staff_view()
def need_detail(request: HttpRequest, need_id: int) -> HttpResponse:
    need = _need_or_404(request, need_id)
    user = user_of(request)
    context = _matching_context(request, need)
    context |= {
        "events": timeline(NEED_FLOW, need.events.select_related("actor").order_by("created_at", "id")),
        "projects": list(need.projects.all()),
        # The source visit is named only to those who may read the care registry there (PI-3).
        "visit": need.source_visit if need.source_visit and may_view(user, need.source_visit) else None,
        "contact_name": mask_name(need.contact_name),
        "contact_phone": mask_phone(need.contact_phone),
        "may_reveal": bool(need.contact_phone) and may_reveal(user, need),
        "actions": [t for t in actions_for(NEED_FLOW, need) if t.action in MANUAL_ACTIONS]
        if context["may_manage"]
        else [],
        "note_form": NoteForm(),
    }
    response = render(request, "needs/need_detail.html", context)
    response["Cache-Control"] = "no-store"  # PI-8: the page holds (masked) personal data
    return response


def _after_matching(request: HttpRequest, need_id: int, error: str = "", ok: str = "") -> HttpResponse:
    need = _need_or_404(request, need_id)
    if is_htmx(request):
        context = _matching_context(request, need, error=error)
        context["ok"] = ok
        return render(request, "needs/need_detail.html#matching", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    elif ok:
        messages.success(request, ok)
    return redirect("needs:need", need_id=need_id)


@staff_view(Capability.NEEDS_MANAGE)
@require_POST
def need_accept(request: HttpRequest, need_id: int, resource_id: int) -> HttpResponse:
    try:
        match_accept(actor=user_of(request), need_id=need_id, resource_id=resource_id)
    except NeedsError as exc:
        if exc.status == 404:
            raise Http404 from exc
        return _after_matching(request, need_id, error=exc.message)
    return _after_matching(request, need_id, ok="已采纳该资源,并占用其可服务数量。")


@staff_view(Capability.NEEDS_MANAGE)
@require_POST
def need_reject(request: HttpRequest, need_id: int, resource_id: int) -> HttpResponse:
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _after_matching(request, need_id, error="请填写不采纳的理由(200字以内)。")
    try:
        match_reject(
            actor=user_of(request),
            need_id=need_id,
            resource_id=resource_id,
            reason=form.cleaned_data["reason"],
        )
    except NeedsError as exc:
        if exc.status == 404:
            raise Http404 from exc
        return _after_matching(request, need_id, error=exc.message)
    return _after_matching(request, need_id, ok="已记录不采纳的理由,该资源不再推荐给此需求。")


@staff_view(Capability.NEEDS_MANAGE)
@require_POST
def need_release(request: HttpRequest, need_id: int, match_id: int) -> HttpResponse:
    need = _need_or_404(request, need_id)
    if not need.matches.filter(pk=match_id, status=MatchStatus.ACCEPTED).exists():
        raise Http404
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        match_release(actor=user_of(request), match_id=match_id, reason=note)
    except NeedsError as exc:
        if exc.status == 404:
            raise Http404 from exc
        return _after_matching(request, need_id, error=exc.message)
    return _after_matching(request, need_id, ok="已释放该资源。")


@staff_view(Capability.NEEDS_MANAGE)
@require_POST
def need_action(request: HttpRequest, need_id: int, action: str) -> HttpResponse:
    if action not in MANUAL_ACTIONS:
        raise Http404
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        need_act(actor=user_of(request), need_id=need_id, action=action, note=note)
    except NeedsError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "已保存。")
    return redirect("needs:need", need_id=need_id)


@staff_view()
@require_POST
def need_reveal(request: HttpRequest, need_id: int) -> HttpResponse:
    """The full contact phone, for a reason (audited, PI-2); answers a fragment for htmx."""
    need = _need_or_404(request, need_id)
    reason = request.POST.get("reason", "")
    try:
        value = pii_reveal(
            viewer=user_of(request), obj=need, field="contact_phone", reason=reason, request=request
        )
    except RevealError as exc:
        response = render(request, "needs/_reveal.html", {"error": exc.message, "need": need}, status=400)
    else:
        response = render(request, "needs/_reveal.html", {"value": value, "need": need})
    response["Cache-Control"] = "no-store"
    return response


@staff_view()
def needs_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV (contacts masked), audited as one ``data.export``."""
    user = user_of(request)
    _, filters = _filters(request, user)
    rows = list(selectors.needs_for_user(user=user, filters=filters)[:EXPORT_MAX])
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="needs-{timezone.localdate():%Y%m%d}.csv"'
    response["Cache-Control"] = "no-store"
    response.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a BOM
    writer = csv.writer(response)
    writer.writerow(
        [
            "编号",
            "登记时间",
            "需求",
            "类别",
            "来源",
            "社区",
            "小区/社区",
            "受益人数",
            "紧急程度",
            "状态",
            "联系人",
            "联系电话",
        ]
    )
    for n in rows:
        writer.writerow([
            n.pk, f"{timezone.localtime(n.created_at):%Y-%m-%d %H:%M}", _cell(mask_text(n.title)), n.get_category_display(),
            n.get_source_kind_display(), n.community.name, n.region.name, n.beneficiaries, n.get_urgency_display(),
            n.get_status_display(), mask_name(n.contact_name), mask_phone(n.contact_phone),
        ])  # fmt: skip
    audit_record(
        action="data.export",
        actor=user,
        obj=None,
        object_type="needs.need",
        result=AuditResult.OK,
        data={"what": "needs.needs", "rows": len(rows), "filters": request.GET.urlencode()[:200]},
        request=request,
    )
    return response


def _cell(text: str) -> str:
    """A cell a spreadsheet would run as a formula is escaped (IO-2)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
