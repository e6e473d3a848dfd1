from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def district_map(request: HttpRequest) -> HttpResponse:
    """The district map: streets, communities and (for staff, within scope) grids."""
    return render(request, "places/map.html")
