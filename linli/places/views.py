from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability


def district_map(request: HttpRequest) -> HttpResponse:
    """The district map: streets, communities and (for staff, within scope) grids.

    The page only says where the layers are; ``places/map.js`` fetches them from the places API, which
    applies the scope. Staff see the map inside the workbench shell, everyone else in the plain one.
    """
    user = request.user
    staff = user.is_authenticated and user_has_capability(user, Capability.VIEW_WORKBENCH)
    sees_grids = user.is_authenticated and user_has_capability(user, Capability.VIEW_PLACES)
    layer_url = reverse("api:public_layer", kwargs={"level": "LEVEL"})
    context = {
        "base_template": "base_workbench.html" if staff else "base.html",
        "street_url": layer_url.replace("LEVEL", "street"),
        "community_url": layer_url.replace("LEVEL", "community"),
        "grid_layer_url": reverse("api:grid_layer") if sees_grids else "",
        # The detail URL with a 0 placeholder that map.js swaps for the clicked grid's id.
        "grid_detail_url": reverse("api:grid_detail", kwargs={"grid_id": 0}) if sees_grids else "",
        "locate_url": reverse("api:locate"),
        "tile_url": settings.LINLI_MAP_TILE_URL,
        "tile_attribution": settings.LINLI_MAP_TILE_ATTRIBUTION,
    }
    return render(request, "places/map.html", context)
