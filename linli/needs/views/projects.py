"""Staff pages of the projects list: the board (one column per status), creating a project from a
community's needs, a project's page with the table's actions (claim, start, report, record volunteers'
service, complete, evaluate, cancel)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.roles import Capability
from linli.needs import selectors
from linli.needs.errors import NeedsError
from linli.needs.forms import (
    ClaimForm,
    EvaluateForm,
    NoteForm,
    ProjectFilterForm,
    ProjectForm,
    ReportForm,
    ServiceForm,
)
from linli.needs.models import Project
from linli.needs.services import (
    project_act,
    project_claim,
    project_create,
    project_evaluate,
    project_report,
    project_serve,
)
from linli.needs.transitions import PROJECT_FLOW, actions_for
from linli.needs.views.common import is_htmx, staff_view, timeline, user_of
from linli.party.presenters import shown_name


@staff_view()
def projects_board(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form = ProjectFilterForm(request.GET or None)
    filters = selectors.ProjectFilters()
    if form.is_valid():
        filters = selectors.ProjectFilters(
            category=form.cleaned_data["category"], q=form.cleaned_data["q"].strip()
        )
    context = {"form": form, "columns": selectors.project_board(user=user, filters=filters)}
    if is_htmx(request):
        return render(request, "needs/projects_board.html#board", context)
    return render(request, "needs/projects_board.html", context)


@staff_view(Capability.NEEDS_MANAGE)
@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest) -> HttpResponse:
    """Pick a community (the needs list reloads through htmx), tick its needs, describe the project."""
    user = user_of(request)
    data = request.POST or None
    raw = (request.POST or request.GET).get("community") or ""
    community_id = int(raw) if raw.isdigit() else None
    needs = selectors.needs_for_project_choice(user=user, community_id=community_id) if community_id else []
    form = ProjectForm(data, user=user, needs=needs, initial={"community": community_id, "is_public": True})
    if request.method == "GET" and is_htmx(request):
        return render(request, "needs/project_new.html#needs", {"form": form})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            project = project_create(
                actor=user, title=d["title"], summary=d["summary"], category=d["category"],
                community_id=d["community"], need_ids=d["needs"], description=d["description"],
                planned_end=d["planned_end"], is_public=d["is_public"],
            )  # fmt: skip
        except NeedsError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "项目已创建,等待组织认领。")
            return redirect("needs:project", project_id=project.pk)
    return render(request, "needs/project_new.html", {"form": form}, status=400 if form.errors else 200)


@staff_view()
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    user = user_of(request)
    project = selectors.project_for_user(user=user, project_id=project_id)
    if project is None:
        raise Http404
    may_manage = selectors.user_may_manage(user=user, region_path=project.region_path)
    actions = [t.action for t in actions_for(PROJECT_FLOW, project)] if may_manage else []
    context: dict[str, Any] = {
        "project": project,
        "may_manage": may_manage,
        "actions": actions,
        "services": [
            {"s": s, "name": shown_name(user, s.volunteer), "credited": hasattr(s, "ledger_entry")}
            for s in selectors.project_services(project=project)
        ],
        "service_form": _service_form(user, project) if "serve" in actions else None,
        "events": timeline(PROJECT_FLOW, project.events.select_related("actor").order_by("created_at", "id")),
        "updates": list(project.updates.select_related("author")[:50]),
        "claim_form": ClaimForm(user=user) if may_manage else None,
        "report_form": ReportForm(initial={"progress": project.progress, "is_public": True}),
        "evaluate_form": EvaluateForm(),
        "note_form": NoteForm(),
    }
    return render(request, "needs/project_detail.html", context)


def _service_form(user: Any, project: Project, data: Any = None) -> ServiceForm | None:
    teams = list(selectors.project_teams(project=project))
    if not teams:
        return None
    volunteers = [
        (v.pk, shown_name(user, v)) for v in selectors.project_team_volunteers(project=project)[:500]
    ]
    return ServiceForm(data, teams=teams, volunteers=volunteers, initial={"served_on": timezone.localdate()})


@staff_view(Capability.NEEDS_MANAGE)
@require_POST
def project_action(request: HttpRequest, project_id: int, action: str) -> HttpResponse:
    user = user_of(request)
    try:
        if action == "claim":
            form: Any = ClaimForm(request.POST, user=user)
            if not form.is_valid():
                raise NeedsError("invalid_input", "请选择认领组织。")
            project_claim(
                actor=user,
                project_id=project_id,
                organisation_id=form.cleaned_data["organisation"],
                note=form.cleaned_data["note"],
            )
        elif action == "report":
            form = ReportForm(request.POST)
            if not form.is_valid():
                raise NeedsError("invalid_input", "请填写进展和0到100之间的进度。")
            d = form.cleaned_data
            project_report(
                actor=user,
                project_id=project_id,
                text_=d["text"],
                progress=d["progress"],
                is_public=d["is_public"],
            )
        elif action == "evaluate":
            form = EvaluateForm(request.POST)
            if not form.is_valid():
                raise NeedsError("invalid_input", "评估得分应为1到5。")
            project_evaluate(
                actor=user,
                project_id=project_id,
                score=form.cleaned_data["score"],
                note=form.cleaned_data["note"],
            )
        elif action == "serve":
            project = selectors.project_for_user(user=user, project_id=project_id)
            if project is None or not selectors.user_may_manage(user=user, region_path=project.region_path):
                raise Http404
            form = _service_form(user, project, request.POST)
            if form is None or not form.is_valid():
                raise NeedsError("invalid_input", "请选择服务队和队员,并填写服务日期和0.25到24之间的时长。")
            d = form.cleaned_data
            project_serve(
                actor=user,
                project_id=project_id,
                volunteer_id=d["volunteer"],
                team_id=d["team"],
                hours=d["hours"],
                served_on=d["served_on"],
            )
        elif action in {"unclaim", "start", "complete", "cancel"}:
            form = NoteForm(request.POST)
            note = form.cleaned_data["note"] if form.is_valid() else ""
            project_act(actor=user, project_id=project_id, action=action, note=note)
        else:
            raise Http404
    except NeedsError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "已保存。")
    return redirect("needs:project", project_id=project_id)
