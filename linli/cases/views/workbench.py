"""The staff workbench (desktop, htmx): queues by role with filters, a case with its timeline and only
the actions this user may take, bulk assignment, the overdue board, intake on a resident's behalf (代客),
and revealing a contact phone (with a reason, audited)."""

from __future__ import annotations

import math
import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.cases import selectors
from linli.cases import services as svc
from linli.cases.errors import CaseError
from linli.cases.forms import (
    BulkAssignForm,
    IntakeForm,
    QueueFilterForm,
    RevealForm,
    photos_read,
    set_choices,
    tri,
)
from linli.cases.location import case_location_resolve
from linli.cases.models import Case, CaseAttachment, LadderLevel, Supervision
from linli.cases.permissions import Who, case_relations
from linli.cases.pickers import category_choices, category_leaves, communities_for_user, units_for_user
from linli.cases.transitions import status_label
from linli.cases.views.access import (
    case_for_user_or_404,
    form_add_case_error,
    id_param,
    is_htmx,
    key_reused,
    paginate,
    query_without_page,
    staff_view,
    user_of,
)
from linli.cases.views.actions import RUNNERS, SPEC_BY_KEY, ActionSpec, Pickers, build_form, specs_allowed
from linli.cases.views.hotline import may_import
from linli.cases.views.maps import map_context
from linli.places.models import Grid
from linli.security.masking import mask_name, mask_phone
from linli.security.reveal import RevealError, may_reveal, pii_reveal

QUEUES: list[tuple[str, Any, str]] = [
    ("dispatch", gettext_lazy("待梳理交办"), Capability.CASES_TRIAGE),
    ("handle", gettext_lazy("待我办理"), Capability.CASES_HANDLE),
    ("review", gettext_lazy("评议"), Capability.CASES_REVIEW),
    ("all", gettext_lazy("全部工单"), Capability.CASES_VIEW),
]


def _queues_for(user: User) -> list[tuple[str, Any]]:
    return [(key, label) for key, label, cap in QUEUES if user_has_capability(user, cap)]


def _filter_form(request: HttpRequest, user: User) -> QueueFilterForm:
    form = QueueFilterForm(request.GET or None)
    set_choices(form, "queue", [(k, str(label)) for k, label in _queues_for(user)])
    set_choices(form, "category", [("", _("全部分类")), *category_choices()])
    grids = Grid.objects.for_user(user).order_by("code").values_list("pk", "name")
    set_choices(form, "grid", [("", _("全部网格")), *((str(pk), name) for pk, name in grids)])
    form.fields["level"] = forms.ChoiceField(
        label=_("层级"), choices=[("", _("全部层级")), *LadderLevel.choices], required=False
    )
    return form


@staff_view()
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """工单: the user's queues (dispatch, handle, review, all in scope) with filters; htmx swaps the table."""
    user = user_of(request)
    queues = _queues_for(user)
    form = _filter_form(request, user)
    # A bad value (a stale bookmarked grid, ?page=abc) drops that filter only, and says so; the rest apply.
    form.is_valid()
    d: dict[str, Any] = form.cleaned_data if form.is_bound else {}
    ignored = [str(form.fields[name].label) for name in form.errors if name in form.fields]
    current = d.get("queue") or queues[0][0]
    filters = selectors.QueueFilters(
        queue=current,
        status=(d["status"],) if d.get("status") else (),
        level=d.get("level") or "",
        deadline=d.get("deadline") or "resolve",
        overdue=tri(d.get("overdue")),
        warned=tri(d.get("warned")),
        category_id=d.get("category"),
        grid_id=d.get("grid"),
        channel=d.get("channel") or "",
        query=(d.get("q") or "").strip(),
    )
    page = paginate(request, selectors.case_queue_for_user(user, filters))
    bulk = current == "dispatch" and user_has_capability(user, Capability.CASES_ASSIGN)
    context = {
        "form": form,
        "queues": queues,
        "current": current,
        "page": page,
        "query": query_without_page(request),
        "now": timezone.now(),
        "bulk": bulk,
        "bulk_units": units_for_user(user, Capability.CASES_ASSIGN) if bulk else [],
        "can_intake": user_has_capability(user, Capability.CASES_INTAKE),
        "can_import": may_import(user),
        "ignored_filters": ignored,
    }
    if is_htmx(request) and request.headers.get("HX-Target") == "queue-results":
        return render(request, "cases/wb/queue.html#results", context)
    return render(request, "cases/wb/queue.html", context)


def _detail_context(
    request: HttpRequest,
    user: User,
    case: Case,
    *,
    bound: tuple[str, forms.Form] | None = None,
    notice: str = "",
    revealed: dict[str, str] | None = None,
) -> dict[str, Any]:
    actions = selectors.case_actions_for_user(user, case)
    pickers = Pickers(user, case)
    action_forms: list[tuple[ActionSpec, forms.Form]] = []
    shown = False
    for spec in specs_allowed(actions, case):
        if bound is not None and bound[0] == spec.key:
            action_forms.append((spec, bound[1]))
            shown = True
        else:
            action_forms.append((spec, build_form(spec, pickers)))
    # A refused action whose form is no longer offered (the case moved on meanwhile: someone else
    # triaged it, or it left this user's hands): its reason goes at the top of the page, not nowhere.
    error = ""
    if bound is not None and not shown:
        error = " ".join(str(e) for e in bound[1].non_field_errors()) or _(
            "该操作已不可执行,请查看工单当前状态"
        )
    attachments = list(CaseAttachment.objects.filter(case=case).order_by("created_at", "id"))
    reporter = case.reporter
    return {
        "case": case,
        "timeline": selectors.case_timeline(case, user),
        "action_forms": action_forms,
        "open_form": bound[0] if bound else "",
        "report_photos": [a for a in attachments if a.kind == "report"],
        "result_photos": [a for a in attachments if a.kind == "result"],
        "supervisions": list(Supervision.objects.filter(case=case).select_related("supervisor")[:20]),
        "contact_name": mask_name(case.contact_name),
        "contact_phone": case.contact_phone_masked,
        "callers": selectors.case_callers_masked(case),
        "reporter_name": mask_name(str(reporter)) if reporter else "",
        "reporter_phone": mask_phone(reporter.phone) if reporter else "",
        "may_reveal": may_reveal(user, case) or handler_duty(user, case),
        "reveal_form": RevealForm(),
        "revealed": revealed or {},
        "notice": notice,
        "error": error,
        "now": timezone.now(),
        "status_label": status_label(case.status),
    }


@staff_view()
@require_GET
def detail(request: HttpRequest, case_id: int) -> HttpResponse:
    user = user_of(request)
    case = case_for_user_or_404(user, case_id)
    return render(request, "cases/wb/detail.html", _detail_context(request, user, case))


@staff_view()
@require_POST
def act(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    """Perform one action from the case page; errors come back on the form with the input kept."""
    user = user_of(request)
    case = case_for_user_or_404(user, case_id)
    spec = SPEC_BY_KEY.get(action)
    if spec is None:
        raise Http404
    pickers = Pickers(user, case)
    form = build_form(spec, pickers, request.POST)
    template = "cases/wb/detail.html#detail" if is_htmx(request) else "cases/wb/detail.html"
    status = 400
    if form.is_valid():
        try:
            photos = photos_read(request.FILES.getlist("photos")) if spec.photos else []
            RUNNERS[spec.key](user, case, form.cleaned_data, photos)
        except CaseError as exc:
            if form_add_case_error(form, exc) is not None:  # a photo or a place: no field of its own here
                form.add_error(None, exc.message)
            # htmx swaps only 400/422/429 answers (base.html's config): a refusal by the table (403/409)
            # must still reach the screen, with its message on the form.
            status = 422 if is_htmx(request) and exc.status in (403, 409) else exc.status
        else:
            done = _("「{label}」已完成").format(label=spec.label)
            fresh = selectors.case_detail_for_user(user, case.pk)
            if fresh is None:  # e.g. 退单 by the unit: the case left this user's scope
                messages.success(request, done)
                response: HttpResponse = redirect("cases:workbench")
                if is_htmx(request):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = reverse("cases:workbench")
                return response
            if is_htmx(request):
                return render(request, template, _detail_context(request, user, fresh, notice=done))
            messages.success(request, done)
            return redirect("cases:detail", case_id=case.pk)
    case.refresh_from_db()
    context = _detail_context(request, user, case, bound=(spec.key, form))
    return render(request, template, context, status=status)


@staff_view(Capability.CASES_ASSIGN)
@require_POST
def bulk_assign(request: HttpRequest) -> HttpResponse:
    """交办 several cases to one unit at once; each goes through ``case_assign`` (the table and the scope
    are checked per case, and a refused case is named, not silently skipped)."""
    user = user_of(request)
    units = units_for_user(user, Capability.CASES_ASSIGN)
    form = BulkAssignForm(request.POST)
    ids = [i for v in request.POST.getlist("ids") if (i := id_param(v)) is not None][:100]
    set_choices(form, "ids", [(i, i) for i in ids])
    set_choices(form, "unit", [("", "—"), *((str(u.pk), u.name) for u in units)])
    back = request.POST.get("back") or reverse("cases:workbench")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("cases:workbench")
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0] if form.errors else _("请选择工单")
        messages.error(request, _("批量交办未执行:{error}").format(error=first))
        return redirect(back)
    visible = dict(
        Case.objects.for_user(user).filter(pk__in=form.cleaned_data["ids"]).values_list("pk", "number")
    )
    done, failed = [], []
    for case_id in form.cleaned_data["ids"]:
        number = visible.get(case_id)
        if number is None:
            continue  # outside the user's scope: it does not exist for them
        try:
            svc.case_assign(
                case_id=case_id, actor=user, unit_id=form.cleaned_data["unit"], note=form.cleaned_data["note"]
            )
        except CaseError as exc:
            failed.append(f"{number}:{exc.message}")
        else:
            done.append(number)
    if done:
        messages.success(request, _("已交办 {n} 件").format(n=len(done)))
    if failed:
        messages.error(request, _("未能交办:{items}").format(items=";".join(failed)))
    return redirect(back)


@staff_view(Capability.CASES_SUPERVISE)
@require_GET
def overdue(request: HttpRequest) -> HttpResponse:
    """The supervisor's overdue board: open cases past their deadline, longest overdue first, with the
    counts per responsible unit and per community."""
    user = user_of(request)
    cases = selectors.cases_overdue(user)
    page = paginate(request, cases)
    by_unit = (
        cases.order_by()
        .values("unit__name")
        .annotate(n=Count("id"), supervised=Count("id", filter=Q(supervision_count__gt=0)))
        .order_by("-n", "unit__name")[:20]
    )
    by_community = cases.order_by().values("community__name").annotate(n=Count("id")).order_by("-n")[:20]
    context = {
        "page": page,
        "query": query_without_page(request),
        "by_unit": list(by_unit),
        "by_community": list(by_community),
        "now": timezone.now(),
    }
    return render(request, "cases/wb/overdue.html", context)


@staff_view(Capability.CASES_INTAKE)
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest) -> HttpResponse:
    """代客登记: window, hotline or grid staff file a case for a resident (contact name and phone)."""
    user = user_of(request)
    leaves = category_leaves()
    communities = [(c.pk, c.name) for c in communities_for_user(user, Capability.CASES_INTAKE)]
    data = request.POST if request.method == "POST" else None
    form = IntakeForm(
        data, initial={"idempotency_key": secrets.token_urlsafe(18)}, leaves=leaves, communities=communities
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        allowed_communities = {pk for pk, _name in communities}
        try:
            if d["community"] is not None and d["community"] not in allowed_communities:
                raise CaseError("outside_jurisdiction", "所选社区不在您的辖区")
            if d["lat"] is not None and d["lng"] is not None:
                # A point is held to the same rule as a chosen community: staff file inside their area.
                located = case_location_resolve(lat=d["lat"], lng=d["lng"])
                if located.community_id not in allowed_communities:
                    raise CaseError("outside_jurisdiction", "该位置不在您的辖区,请核对经纬度或转交所属社区")
            result = svc.case_submit(
                text=d["text"],
                channel=d["channel"],
                filed_by=user,
                kind=d["kind"] or None,
                category_id=d["category"],
                lat=d["lat"],
                lng=d["lng"],
                address=d["address"],
                community_id=d["community"] if d["lat"] is None else None,
                contact_name=d["contact_name"],
                contact_phone=d["contact_phone"],
                photos=photos_read(request.FILES.getlist("photos")),
                idempotency_key=d["idempotency_key"],
            )
        except CaseError as exc:
            reused = key_reused(exc, request.POST)
            if reused is not None:
                form = IntakeForm(reused.data, leaves=leaves, communities=communities)
                form.is_valid()
                form.add_error(None, reused.message)
            else:
                place = form_add_case_error(form, exc)
                if place:
                    form.add_error("lat" if place == "location" else None, exc.message)
        else:
            messages.success(request, _("已登记,编号 {number}").format(number=result.case.number))
            if selectors.case_detail_for_user(user, result.case.pk) is not None:
                return redirect("cases:detail", case_id=result.case.pk)
            return redirect("cases:intake")
    if form.errors and request.FILES.getlist("photos"):
        # A browser cannot put chosen files back into a re-shown form: say so instead of dropping them.
        form.add_error(None, _("已选择的照片未保存,请重新选择后再提交"))
    # The pin picker's map: the district's extent, the community outlines and the tiles, as the case map.
    context = {"form": form, **map_context("", "")}
    return render(request, "cases/wb/intake.html", context, status=400 if form.errors else 200)


def _coordinate(raw: str | None, bound: float) -> float | None:
    """A typed coordinate within ±``bound``, None when missing, half-typed or out of range."""
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) and -bound <= value <= bound else None


@staff_view(Capability.CASES_INTAKE)
@require_GET
def intake_similar(request: HttpRequest) -> HttpResponse:
    """代客登记: open cases of the chosen category near the typed point or in the chosen community (those
    this user may see), shown beside the form as it is filled in (htmx), so a caller whose problem is
    already filed can be given its number. Incomplete or bad values show nothing, not an error."""
    category_id = id_param(request.GET.get("category"))
    lat, lng = _coordinate(request.GET.get("lat"), 90), _coordinate(request.GET.get("lng"), 180)
    if lat is None or lng is None:
        lat = lng = None
    found: list[tuple[Case, float | None]] = []
    if category_id is not None:
        found = selectors.cases_similar_for_intake(
            user_of(request),
            category_id=category_id,
            community_id=id_param(request.GET.get("community")),
            lat=lat,
            lng=lng,
        )
    if not found:
        return HttpResponse("")  # the panel stays empty (and hidden)
    rows = [(case, distance, status_label(case.status)) for case, distance in found]
    return render(request, "cases/wb/_intake_similar.html", {"rows": rows, "by_point": lat is not None})


@staff_view(Capability.CASES_INTAKE)
@require_POST
def caller_follow(request: HttpRequest, case_id: int) -> HttpResponse:
    """代客: the caller (the intake form's 联系电话) follows a case offered beside the form and is told its
    number, instead of filing the same problem again; they hear of the outcome by SMS (services.callers).
    Answers a line for the panel, also for a refusal (a landline, a case closed meanwhile)."""
    try:
        result = svc.case_caller_add(
            case_id=case_id, phone=request.POST.get("contact_phone", ""), actor=user_of(request)
        )
    except CaseError as exc:
        if exc.status == 404:
            raise Http404 from exc
        return render(request, "cases/wb/_caller_follow.html", {"error": exc.message})
    return render(request, "cases/wb/_caller_follow.html", {"result": result})


def handler_duty(user: User, case: Case) -> bool:
    """The case is in this user's hands (assigned or in progress, to them or their unit: permissions.IN_HAND)."""
    return Who.HANDLER in case_relations(user, case)


@staff_view()
@require_POST
def reveal(request: HttpRequest, case_id: int) -> HttpResponse:
    """Show a full phone number to staff who may reveal it: a reason is required and the reveal audited."""
    user = user_of(request)
    case = case_for_user_or_404(user, case_id)
    form = RevealForm(request.POST)
    value, error = "", ""
    if not form.is_valid():
        error = _("请填写查看理由")
    else:
        field, reason = form.cleaned_data["field"], form.cleaned_data["reason"]
        # The handler of a case in their hands calls the reporter back (办理前联系群众): their duty on
        # this case, not people.reveal; audited as such (security.reveal.pii_reveal's ``duty``).
        duty = "" if may_reveal(user, case) else ("case_handler" if handler_duty(user, case) else "")
        try:
            if field == "reporter_phone":
                if case.reporter is None:
                    raise Http404
                value = pii_reveal(
                    viewer=user, obj=case.reporter, field="phone", reason=reason, request=request, duty=duty
                )
            else:
                value = pii_reveal(
                    viewer=user, obj=case, field="contact_phone", reason=reason, request=request, duty=duty
                )
        except RevealError as exc:
            error = exc.message
    if is_htmx(request):
        return render(
            request, "cases/wb/_revealed.html", {"value": value, "error": error}, status=400 if error else 200
        )
    revealed = {form.cleaned_data.get("field", ""): value} if value else {}
    context = _detail_context(request, user, case, revealed=revealed, notice=error)
    return render(request, "cases/wb/detail.html", context, status=400 if error else 200)
