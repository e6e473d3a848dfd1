"""公示: solved cases marked public, for anyone, with personal data removed.

Everything shown goes through ``selectors.case_public_dict`` (category as title, the result, a point
rounded to ~100 m, no reporter, no resident's words) and the public timeline (public steps, no names or
notes). Photos appear only where the handler marked them public.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from linli.cases import selectors
from linli.cases.models import Case, CaseAttachment
from linli.cases.pickers import category_choices
from linli.cases.views.access import id_param, paginate, query_without_page
from linli.cases.views.maps import map_context
from linli.security.uploads import serve_upload

PUBLIC_PER_PAGE = 20


@require_GET
def public_list(request: HttpRequest) -> HttpResponse:
    category_id = id_param(request.GET.get("category"))
    qs = selectors.cases_public(category_id=category_id)
    page = paginate(request, qs, PUBLIC_PER_PAGE)
    cases = list(page.object_list)
    photos: dict[int, list[int]] = {}
    for case_id, attachment_id in (
        CaseAttachment.objects.filter(case_id__in=[c.pk for c in cases], is_public=True)
        .order_by("case_id", "created_at", "id")
        .values_list("case_id", "id")
    ):
        photos.setdefault(case_id, []).append(attachment_id)
    rows = [{**selectors.case_public_dict(c), "photos": photos.get(c.pk, [])[:3]} for c in cases]
    context = {
        "rows": rows,
        "page": page,
        "query": query_without_page(request),
        "categories": category_choices(),
        "selected_category": str(category_id or ""),
        **map_context(reverse("cases:public_pins"), reverse("cases:public_detail", kwargs={"case_id": 0})),
    }
    return render(request, "cases/public_list.html", context)


def _public_case(case_id: int) -> Case:
    case = selectors.cases_public().filter(pk=case_id).first()
    if case is None:
        raise Http404
    return case


@require_GET
def public_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _public_case(case_id)
    photos = list(
        CaseAttachment.objects.filter(case=case, is_public=True)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )
    context = {
        "row": selectors.case_public_dict(case),
        # As the public reads it, whoever is signed in: public steps without names or notes.
        "timeline": selectors.case_timeline(case, AnonymousUser()),
        "photos": photos,
    }
    return render(request, "cases/public_detail.html", context)


@require_GET
def public_photo(request: HttpRequest, case_id: int, attachment_id: int) -> HttpResponseBase:
    """A photo the handler marked public, of a case that is public and solved; anything else is 404."""
    case = _public_case(case_id)
    row = CaseAttachment.objects.filter(pk=attachment_id, case=case, is_public=True).first()
    if row is None:
        raise Http404
    return serve_upload(request, row.file.name, allowed=True, cache_control="public, max-age=3600")
