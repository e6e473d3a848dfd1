"""Public pages: a team's total hours, the list of teams, and checking a certificate by its code.
Aggregates only: no volunteer's name appears, small member counts are suppressed (PI-7)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from linli.party import selectors
from linli.security.masking import mask_name


def teams(request: HttpRequest) -> HttpResponse:
    return render(request, "party/teams.html", {"teams": selectors.teams_public()})


def team(request: HttpRequest, team_id: int) -> HttpResponse:
    return render(request, "party/team.html", {"t": selectors.team_public(team_id)})


def verify(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("code", "").strip()
    certificate = selectors.certificate_by_code(code) if code else None
    context = {
        "code": code,
        "certificate": certificate,
        "masked_name": mask_name(certificate.volunteer.name) if certificate else "",
    }
    return render(request, "party/verify.html", context)
