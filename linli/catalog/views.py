"""办事指南 pages: search and browse (mobile-first), and one item's full guide with where to go."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from linli.catalog.models import Category
from linli.catalog.selectors import category_valid, item_public, items_search


def item_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:50]
    category = request.GET.get("category", "")
    if not category_valid(category):
        category = ""
    items = items_search(q=q, category=category)
    page = Paginator(items, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/list.html",
        {"q": q, "category": category, "categories": Category.choices, "page": page, "count": len(items)},
    )


def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    item = item_public(code=code)
    if item is None:
        raise Http404
    stations = list(
        item.offers.filter(is_active=True, station__is_published=True)
        .select_related("station")
        .order_by("station__kind", "station__code")[:50]
    )
    return render(
        request,
        "catalog/detail.html",
        {
            "item": item,
            "offers": stations,
            "nearby_url": f"{reverse('stations:nearby')}?service={item.code}",
        },
    )
