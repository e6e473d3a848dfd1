"""The public 三清单 pages (mobile-first, no sign-in): the communities, and one community's progress."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from linli.needs.public import communities_public, community_progress, public_community


def public_index(request: HttpRequest) -> HttpResponse:
    return render(request, "needs/public_index.html", {"communities": communities_public()})


def public_community_page(request: HttpRequest, code: str) -> HttpResponse:
    community = public_community(code=code)
    if community is None:
        raise Http404
    return render(request, "needs/public_community.html", {"p": community_progress(community=community)})
