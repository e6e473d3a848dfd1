"""Pages for an organisation's own representative (组织联络人, mobile-first): the projects it may claim and
its own projects, and the claim itself (项目认领). Someone who represents no organisation gets 404; the
staff pages stay closed to representatives (they hold no capability)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from linli.needs import selectors
from linli.needs.errors import NeedsError
from linli.needs.forms import NoteForm
from linli.needs.services import project_claim_as_organisation
from linli.needs.views.common import user_of

# Representatives usually sign in with their phone and an SMS code (a resident-kind account).
representative_login_required = login_required(login_url="accounts:phone_login")


@representative_login_required
def organisation_home(request: HttpRequest) -> HttpResponse:
    organisations = selectors.organisations_represented(user=user_of(request))
    if not organisations:
        raise Http404
    boards = [selectors.projects_for_organisation(organisation=o) for o in organisations]
    response = render(request, "needs/rep_home.html", {"boards": boards, "note_form": NoteForm()})
    response["Cache-Control"] = "no-store"
    return response


@representative_login_required
@require_POST
def organisation_claim(request: HttpRequest, organisation_id: int, project_id: int) -> HttpResponse:
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        project = project_claim_as_organisation(
            user=user_of(request), project_id=project_id, organisation_id=organisation_id, note=note
        )
    except NeedsError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已认领项目「{project.title}」,社区将与您联系开始实施。")
    return redirect("needs:rep_home")
