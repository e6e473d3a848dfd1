"""Resident pages (mobile-first): 我是党员我报到, my service hours, my certificates."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from linli.party import selectors
from linli.party.errors import PartyError
from linli.party.forms import CertificateForm, CheckInForm, NoteForm
from linli.party.models import PartyMember
from linli.party.services import certificate_issue, checkin_register, checkin_withdraw
from linli.party.views.common import resident_login_required, user_of
from linli.security.masking import mask_phone


@resident_login_required
def checkin(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    member = PartyMember.objects.filter(user=user).first()
    initial: dict[str, object] = {
        "name": member.name if member else user.display_name,
        "employer": member.employer if member else "",
    }
    if member:
        initial |= {"employer_org": member.employer_org, "community": member.community_id}
    form = CheckInForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            checkin_register(
                user=user,
                community_id=data["community"].pk,
                name=data["name"],
                phone=data["phone"],
                employer=data["employer"],
                employer_org=data["employer_org"],
                skills=data["skills"],
                commitments=form.commitments(),
            )
        except PartyError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "报到已提交,请等待社区确认。")
            return redirect("party:checkin")
    context = {
        "form": form,
        "checkins": list(selectors.checkins_mine(user)),
        "account_phone": mask_phone(user.phone),
    }
    return render(request, "party/checkin.html", context, status=422 if form.errors else 200)


@resident_login_required
@require_POST
def checkin_withdraw_view(request: HttpRequest, check_in_id: int) -> HttpResponse:
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    mine = selectors.checkins_mine(user_of(request)).filter(pk=check_in_id).first()
    if mine is None:
        messages.error(request, "报到记录不存在")
        return redirect("party:checkin")
    try:
        checkin_withdraw(check_in_id=mine.pk, actor=user_of(request), note=note)
    except PartyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已撤回报到。")
    return redirect("party:checkin")


@resident_login_required
def my_hours(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    volunteer = selectors.volunteer_mine(user)
    form = CertificateForm(request.POST or None)
    if request.method == "POST" and volunteer is not None and form.is_valid():
        try:
            certificate = certificate_issue(
                actor=user,
                volunteer_id=volunteer.pk,
                period_start=form.cleaned_data["period_start"],
                period_end=form.cleaned_data["period_end"],
            )
        except PartyError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("party:certificate", certificate_id=certificate.pk)
    context = {
        "volunteer": volunteer,
        "ledger": selectors.volunteer_ledger(volunteer) if volunteer else None,
        "certificates": list(volunteer.certificates.all()[:20]) if volunteer else [],
        "form": form,
    }
    return render(request, "party/my_hours.html", context, status=422 if form.errors else 200)
