from django.contrib import admin
from django.urls import include, path

from linli.api import api

admin.site.site_header = "邻里 · 后台管理"
admin.site.site_title = "邻里后台"
admin.site.index_title = "基础数据管理"

urlpatterns = [
    path("", include("linli.core.urls")),
    path("accounts/", include("linli.accounts.urls")),
    path("places/", include("linli.places.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
