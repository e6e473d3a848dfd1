"""The resident's screens (phone, weak network): report (also from a building QR code), "me too", my
cases with their timeline, rating.

The report page works as a plain form; its script (``cases/report.js``) resizes photos in the browser
and posts the same form with ``Accept: application/json``, so a failed attempt keeps everything on the
screen and a retry carries the same idempotency key (one case however often it is sent, REL-1).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.models import User
from linli.cases import selectors
from linli.cases import services as svc
from linli.cases.errors import CaseError
from linli.cases.forms import RateForm, ReportForm, photos_read
from linli.cases.models import Case, CaseAttachment, CaseFollower, Channel, Status
from linli.cases.pickers import CategoryLeaf, category_leaves, communities_all
from linli.cases.qr import QrError, building_from_token
from linli.cases.transitions import TRANSITIONS
from linli.cases.views.access import (
    case_for_user_or_404,
    district_bbox,
    form_add_case_error,
    form_errors_dict,
    id_param,
    json_error,
    key_reused,
    paginate,
    user_of,
    wants_json,
)
from linli.places.models import Region
from linli.security.audit import audit_record
from linli.security.models import AuditResult
from linli.security.ratelimit import rate_limit_hit, rate_limited_message, rate_limited_response
from linli.security.uploads import serve_upload

FILED_SESSION_KEY = "cases_filed"  # ids of cases this browser filed anonymously (for the receipt page)
ANONYMOUS_CLIENT = "web"  # idempotency scope of anonymous reports: c:<channel>:web + the page's random key


def _current_user(request: HttpRequest) -> User | None:
    return user_of(request) if request.user.is_authenticated else None


def _category_groups(leaves: list[CategoryLeaf]) -> list[tuple[str, list[CategoryLeaf]]]:
    groups: dict[str, list[CategoryLeaf]] = {}
    for leaf in leaves:
        groups.setdefault(leaf.group, []).append(leaf)
    return list(groups.items())


def _audit_qr_refusal(request: HttpRequest, exc: QrError) -> None:
    audit_record(
        action="cases.qr_refused",
        actor=request.user,
        obj=None,
        object_type="places.region",
        result=AuditResult.DENIED,
        data={"code": exc.code},
        request=request,
    )


def _report_form(request: HttpRequest, data: Any = None) -> tuple[ReportForm, list[CategoryLeaf]]:
    leaves = category_leaves()
    communities = [(c.pk, c.name) for c in communities_all()]
    initial = {"idempotency_key": secrets.token_urlsafe(18)}
    form = ReportForm(
        data,
        initial=initial,
        leaves=leaves,
        communities=communities,
        anonymous=not request.user.is_authenticated,
    )
    return form, leaves


def _render_report(
    request: HttpRequest,
    form: ReportForm,
    leaves: list[CategoryLeaf],
    *,
    building: Region | None,
    token: str,
    page_errors: dict[str, list[str]] | None = None,
    nearby: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "groups": _category_groups(leaves),
        "selected_category": str(form["category"].value() or ""),
        "building": building,
        "building_token": token,
        "page_errors": page_errors or {},
        "nearby": nearby,
        "district_bbox": district_bbox(),
        "login_url": f"{reverse('accounts:phone_login')}?next={request.get_full_path()}",
    }
    return render(request, "cases/report.html", context, status=status)


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """我要反映. Anyone may report; without an account a contact phone is required."""
    if request.method == "POST":
        return _report_post(request)
    form, leaves = _report_form(request)
    return _render_report(request, form, leaves, building=None, token="")


@require_GET
def qr_entry(request: HttpRequest, token: str) -> HttpResponse:
    """A building's QR code: the report page with the building filled in, or a clear refusal."""
    try:
        building = building_from_token(token)
    except QrError as exc:
        _audit_qr_refusal(request, exc)
        return render(request, "cases/qr_invalid.html", {"message": exc.message}, status=400)
    form, leaves = _report_form(request)
    return _render_report(request, form, leaves, building=building, token=token)


def _already_filed(user: User | None, channel: str, key: str) -> bool:
    """A retry of a report that went through (its answer was lost): skip the nearby offer, the service
    returns the first case. The scope is the one ``case_submit`` uses (docs/cases.md)."""
    scope = f"u:{user.pk}" if user is not None else f"c:{channel}:{ANONYMOUS_CLIENT}"
    return Case.objects.filter(idempotency_scope=scope, idempotency_key=key).exists()


def nearby_rows(
    *,
    lat: float | None,
    lng: float | None,
    category_id: int | None,
    user: User | None,
    leaves: list[CategoryLeaf],
    community_id: int | None = None,
) -> list[dict[str, Any]]:
    """Open public cases of the category within 100 m, as anyone may see them (no resident's words); for
    an address-only report (no point), those of the category in the chosen community."""
    names = {leaf.id: leaf.name for leaf in leaves}
    found: list[tuple[Case, float | None]]
    if lat is not None and lng is not None:
        found = list(selectors.cases_nearby_similar(lat=lat, lng=lng, category_id=category_id))
    elif community_id is not None and category_id is not None:
        found = selectors.cases_similar_in_community(community_id=community_id, category_id=category_id)
    else:
        found = []
    following: set[int] = set()
    if user is not None and found:
        ids = [case.pk for case, _d in found]
        following = set(
            CaseFollower.objects.filter(user=user, case_id__in=ids).values_list("case_id", flat=True)
        )
    rows = []
    for case, distance in found:
        rows.append(
            {
                "id": case.pk,
                "number": case.number,
                "category": names.get(case.category_id or 0, ""),
                "status": str(Status(case.status).label),
                "distance_m": round(distance) if distance is not None else None,  # None: same community
                "followers": case.follower_count,
                "created": case.created_at.date().isoformat(),
                "own": user is not None and case.reporter_id == user.pk,
                "following": case.pk in following,
                "follow_url": reverse("cases:follow", kwargs={"case_id": case.pk}),
            }
        )
    return rows


def _report_post(request: HttpRequest) -> HttpResponse:
    user = _current_user(request)
    as_json = wants_json(request)
    wait = rate_limit_hit(request, rule="case_submit", key="user_or_ip")
    if wait is not None:
        if as_json:
            return json_error(rate_limited_message(), status=429, code="rate_limited")
        return rate_limited_response(request, wait)
    form, leaves = _report_form(request, request.POST)
    page_errors: dict[str, list[str]] = defaultdict(list)
    token = request.POST.get("building_token", "")
    building = None
    if token:
        try:
            building = building_from_token(token)
        except QrError as exc:
            _audit_qr_refusal(request, exc)
            page_errors["location"].append(exc.message)
            token = ""
    photos: list[bytes] = []
    try:
        photos = photos_read(request.FILES.getlist("photos"))
    except CaseError as exc:
        page_errors["photos"].append(exc.message)

    def refuse(nearby: list[dict[str, Any]] | None = None) -> HttpResponse:
        if as_json:
            errors = form_errors_dict(form) if form.is_bound else {}
            errors.update(page_errors)
            if nearby:
                return json_error(
                    _("附近已有相同问题正在办理"), status=409, code="similar_nearby", nearby=nearby
                )
            first = next(iter(errors.values()), [_("提交失败,请检查后重试")])[0]
            return json_error(first, errors=errors)
        if photos:
            # A browser cannot put chosen files back into a re-shown form: say so instead of dropping them.
            page_errors["photos"].append(_("已选择的照片未保存,请重新选择后再提交"))
        return _render_report(
            request,
            form,
            leaves,
            building=building,
            token=token,
            page_errors=page_errors,
            nearby=nearby,
            status=409 if nearby else 400,
        )

    if not form.is_valid() or page_errors:
        return refuse()
    d = form.cleaned_data
    channel = Channel.BUILDING_QR if building is not None else Channel.RESIDENT
    key = d["idempotency_key"]
    lat, lng = d["lat"], d["lng"]
    if lat is None and building is not None and building.lat is not None:
        lat, lng = building.lat, building.lng
    community_only = d["community"] if building is None and lat is None else None
    if not d["confirm_new"] and (lat is not None or community_only is not None):
        nearby = nearby_rows(
            lat=lat, lng=lng, category_id=d["category"], user=user, leaves=leaves, community_id=community_only
        )
        # Checked after the nearby query, not before: a concurrent copy of this very report (a double tap)
        # that committed in between shows up nearby and, by then, is seen here too, so the retry gets the
        # first case instead of being offered its own report as a "similar" one.
        if nearby and not _already_filed(user, channel, key):
            return refuse(nearby)
    try:
        result = svc.case_submit(
            text=d["text"],
            channel=channel,
            reporter=user,
            kind=d["kind"] or None,
            category_id=d["category"],
            lat=d["lat"],
            lng=d["lng"],
            address=d["address"],
            building_id=building.pk if building is not None else None,
            community_id=d["community"] if building is None and d["lat"] is None else None,
            contact_name=d["contact_name"],
            contact_phone=d["contact_phone"],
            photos=photos,
            idempotency_key=key,
            client_id=ANONYMOUS_CLIENT,
        )
    except CaseError as exc:
        reused = key_reused(exc, request.POST)
        if reused is not None:
            if as_json:
                return json_error(
                    reused.message,
                    status=422,
                    code=exc.code,
                    idempotency_key=reused.key,
                    number=reused.number,
                )
            form, leaves = _report_form(request, reused.data)
            form.is_valid()
            form.add_error(None, reused.message)
            return refuse()
        place = form_add_case_error(form, exc)
        if place:
            page_errors[place].append(exc.message)
        return refuse()
    case = result.case
    filed = [cid for cid in request.session.get(FILED_SESSION_KEY, []) if cid != case.pk][-19:]
    request.session[FILED_SESSION_KEY] = [*filed, case.pk]
    done = reverse("cases:report_done", kwargs={"case_id": case.pk})
    if as_json:
        return JsonResponse({"ok": True, "created": result.created, "number": case.number, "redirect": done})
    return redirect(done)


@require_GET
def report_nearby(request: HttpRequest) -> JsonResponse:
    """The page asks, as soon as it knows the place and the category, what is already reported there."""
    wait = rate_limit_hit(request, rule="public_api")
    if wait is not None:
        return json_error(rate_limited_message(), status=429, code="rate_limited")
    try:
        lat, lng = float(request.GET["lat"]), float(request.GET["lng"])
        raw_category = request.GET.get("category")
        category = id_param(raw_category) if raw_category else None
        if raw_category and category is None:
            raise ValueError(raw_category)
    except (KeyError, ValueError):
        return json_error(_("位置参数不正确"), code="invalid_input")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return json_error(_("位置参数不正确"), code="invalid_input")
    rows = nearby_rows(
        lat=lat, lng=lng, category_id=category, user=_current_user(request), leaves=category_leaves()
    )
    return JsonResponse({"ok": True, "nearby": rows})


@require_GET
def report_done(request: HttpRequest, case_id: int) -> HttpResponse:
    """The receipt: the case number, for the reporter (or the browser that filed it anonymously)."""
    case = Case.objects.select_related("category").filter(pk=case_id).first()
    user = _current_user(request)
    mine = case is not None and user is not None and case.reporter_id == user.pk
    if case is None or not (mine or case_id in request.session.get(FILED_SESSION_KEY, [])):
        raise Http404
    return render(request, "cases/report_done.html", {"case": case, "mine": mine})


@require_POST
def follow(request: HttpRequest, case_id: int) -> HttpResponse:
    """我也遇到: follow an open public case instead of filing it again (needs an account)."""
    if not request.user.is_authenticated:
        if wants_json(request):
            return json_error(_("请先登录,再关注该问题"), status=401, code="login_required")
        return redirect_to_login(reverse("cases:report"), login_url=reverse("accounts:phone_login"))
    try:
        result = svc.case_follow(case_id=case_id, user=user_of(request))
    except CaseError as exc:
        if exc.status == 404:
            raise Http404 from exc
        if wants_json(request):
            return json_error(exc.message, status=exc.status, code=exc.code)
        return render(request, "cases/followed.html", {"error": exc.message}, status=exc.status)
    if wants_json(request):
        return JsonResponse({"ok": True, "created": result.created, "followers": result.case.follower_count})
    return render(request, "cases/followed.html", {"case": result.case, "created": result.created})


# --- my cases -------------------------------------------------------------------------------------
MINE_PER_PAGE = 20  # a phone screen's worth; older cases on the next pages


@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    user = _current_user(request)
    if user is None:
        return redirect_to_login(request.get_full_path(), login_url=reverse("accounts:phone_login"))
    page = paginate(request, selectors.cases_mine(user), MINE_PER_PAGE)
    return render(request, "cases/mine_list.html", {"cases": list(page.object_list), "page": page})


RATE_ACTIONS = ("rate", "reopen", "send_to_review")


def _mine_context(user: User, case: Case, **forms: Any) -> dict[str, Any]:
    actions = selectors.case_actions_for_user(user, case)
    attachments = list(case.attachments.order_by("created_at", "id"))
    return {
        "case": case,
        "timeline": selectors.case_timeline(case, user),
        "actions": actions,
        "can_rate": any(a in actions for a in RATE_ACTIONS),
        "second_rating": "send_to_review" in actions,
        "report_photos": [a for a in attachments if a.kind == "report"],
        "result_photos": [a for a in attachments if a.kind == "result"],
        "rate_form": forms.get("rate_form") or RateForm(),
        "error": forms.get("error", ""),
        "labels": {a: TRANSITIONS[a].label for a in actions},
    }


def _my_case(request: HttpRequest, case_id: int) -> tuple[User, Case]:
    user = _current_user(request)
    if user is None:
        raise Http404
    case = case_for_user_or_404(user, case_id)
    if case.reporter_id != user.pk:
        raise Http404
    return user, case


@require_GET
def mine_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("accounts:phone_login"))
    user, case = _my_case(request, case_id)
    return render(request, "cases/mine_detail.html", _mine_context(user, case))


@require_POST
def mine_act(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    """The reporter's own actions: rate (满意/基本满意/不满意), withdraw, add a note."""
    user, case = _my_case(request, case_id)
    rate_form = RateForm(request.POST) if action == "rate" else None
    try:
        if action == "rate":
            assert rate_form is not None
            if not rate_form.is_valid():
                context = _mine_context(user, case, rate_form=rate_form)
                return render(request, "cases/mine_detail.html", context, status=400)
            d = rate_form.cleaned_data
            svc.case_rate(case_id=case.pk, actor=user, rating=d["rating"], comment=d["comment"])
        elif action == "withdraw":
            svc.case_withdraw(case_id=case.pk, actor=user, note=request.POST.get("note", ""))
        elif action == "comment":
            svc.case_comment(case_id=case.pk, actor=user, note=request.POST.get("note", ""))
        else:
            raise Http404
    except CaseError as exc:
        case.refresh_from_db()
        context = _mine_context(user, case, rate_form=rate_form, error=exc.message)
        context["note"] = request.POST.get("note", "")[:1000]  # what they wrote is shown again, not lost
        return render(request, "cases/mine_detail.html", context, status=exc.status)
    return redirect("cases:mine_detail", case_id=case.pk)


# --- photos ---------------------------------------------------------------------------------------
@require_GET
def photo(request: HttpRequest, case_id: int, attachment_id: int) -> HttpResponseBase:
    """A case photo for whoever may see the case (staff in scope, the reporter); never cached."""
    row = CaseAttachment.objects.select_related("case").filter(pk=attachment_id, case_id=case_id).first()
    if row is None or not request.user.is_authenticated:
        raise Http404
    case_for_user_or_404(user_of(request), case_id)
    return serve_upload(request, row.file.name, allowed=True)
