from django.contrib import admin
from django.urls import include, path, re_path

from linli.accounts import views as account_views
from linli.api import api, api_not_found
from linli.stations.api import nearest_direct as stations_nearest_direct

admin.site.site_header = "邻里 · 后台管理"
admin.site.site_title = "邻里后台"
admin.site.index_title = "基础数据管理"

urlpatterns = [
    # The hottest public endpoint, resolved first: before the API's long URL list and the apps' includes
    # (about 25 µs a request on the 2-core machine; see nearest_direct and bench/nearest_stations.py).
    path("api/stations/nearest", stations_nearest_direct),
    # The API before the pages' includes (its prefix is its own): case submission resolves in a few steps.
    path("api/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),  # after every endpoint: unmatched API URLs get JSON
    path("", include("linli.core.urls")),
    path("accounts/", include("linli.accounts.urls")),
    path("places/", include("linli.places.urls")),
    path("people/", include("linli.people.urls")),
    path("stations/", include("linli.stations.urls")),
    path("needs/", include("linli.needs.urls")),
    path("catalog/", include("linli.catalog.urls")),
    path("bookings/", include("linli.bookings.urls")),
    path("patrols/", include("linli.patrols.urls")),
    path("party/", include("linli.party.urls")),
    path("notifications/", include("linli.notifications.urls")),
    path("security/", include("linli.security.urls")),
    path("cases/", include("linli.cases.urls")),
    path("open311/v2/", include("linli.integrations.open311.urls")),
    # The admin signs in through our page: lockout, the second factor and the first-run notice apply (AC-6).
    path("admin/login/", account_views.admin_login),
    path("admin/", admin.site.urls),
]
