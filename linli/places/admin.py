from django.contrib import admin

from linli.places.models import GeometryVersion, Grid, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "level", "code", "parent", "households", "area_m2"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    readonly_fields = ["path", "lat", "lng", "area_m2"]
    autocomplete_fields = ["parent", "grid"]


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "community", "households", "area_m2"]
    search_fields = ["name", "code"]
    list_filter = ["community__parent"]
    readonly_fields = ["region_path", "lat", "lng", "area_m2"]
    autocomplete_fields = ["community"]


@admin.register(GeometryVersion)
class GeometryVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "updated_at"]
    readonly_fields = ["version", "token", "updated_at"]
