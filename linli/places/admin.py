"""Admin for places, plus GeoJSON import (a page: upload, report, write) and export (an action).

The import page is reached from the Region and Grid changelists; one file may hold both. It needs add and
change permission on both models, since any file can create or update either.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.places.geojson_export import geojson_export
from linli.places.geojson_io import GCJ02, WGS84, geojson_import
from linli.places.geometry import GeometryError, geometry_from_geojson
from linli.places.models import GeometryVersion, Grid, Region
from linli.places.services import (
    PlacesError,
    grid_create,
    grid_update,
    region_create,
    region_placement_check,
    region_update,
)
from linli.security.audit import audit_record
from linli.security.models import AuditResult

MAX_UPLOAD_MB = 64  # a district's 5,000 detailed grid polygons are ~20 MB of GeoJSON
# More rows than this make the page useless; the command line prints them all.
MAX_PROBLEMS_SHOWN = 500
IMPORT_PERMISSIONS = ["places.add_region", "places.change_region", "places.add_grid", "places.change_grid"]


class GeoJsonImportForm(forms.Form):
    file = forms.FileField(
        label=_("GeoJSON文件"),
        help_text=_(
            "FeatureCollection;每个要素的properties含 level、code、name、parent_code,"
            "可选 households、population、address;坐标为 [经度, 纬度]。"
        ),
    )
    crs = forms.ChoiceField(
        label=_("坐标系"),
        choices=[(WGS84, _("WGS84(GPS、天地图)")), (GCJ02, _("GCJ-02(高德、腾讯地图),导入时转换为WGS84"))],
        initial=WGS84,
    )
    dry_run = forms.BooleanField(label=_("只检查,不写入"), required=False)
    strict = forms.BooleanField(label=_("严格模式:有警告(如未覆盖的空隙)也不导入"), required=False)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise ValidationError(
                _("文件超过 %(mb)d MB,请分区导出后分批导入或使用命令行"), params={"mb": MAX_UPLOAD_MB}
            )
        return upload


class GeoJsonAdmin(admin.ModelAdmin):
    change_list_template = "admin/places/change_list_geojson.html"
    actions = ["export_geojson"]

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_import_geojson"
        view = self.admin_site.admin_view(self.import_geojson_view)
        return [path("import-geojson/", view, name=name), *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "can_import_geojson": request.user.has_perms(IMPORT_PERMISSIONS),
        }
        return super().changelist_view(request, extra_context)

    def import_geojson_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perms(IMPORT_PERMISSIONS):
            # A refusal is audited like the import itself would have been (AUD-1: denials too).
            audit_record(
                action="data.import",
                actor=request.user,
                obj=None,
                object_type="places.region",
                result=AuditResult.DENIED,
                data={"source": "geojson"},
                request=request,
            )
            raise PermissionDenied
        result = None
        if request.method == "POST":
            form = GeoJsonImportForm(request.POST, request.FILES)
            if form.is_valid():
                data = form.cleaned_data
                result = geojson_import(
                    data=data["file"].read(),
                    dry_run=data["dry_run"],
                    strict=data["strict"],
                    crs=data["crs"],
                    actor=request.user,
                    request=request,
                )
                if result.applied:
                    messages.success(request, f"{result.plan_text()}。{result.status_text()}")
        else:
            form = GeoJsonImportForm()
        problems = result.report.sorted_problems() if result else []
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("导入GeoJSON"),
            "form": form,
            "result": result,
            "problems": problems[:MAX_PROBLEMS_SHOWN],
            "problems_hidden": max(0, len(problems) - MAX_PROBLEMS_SHOWN),
        }
        return TemplateResponse(request, "admin/places/import_geojson.html", context)

    def geojson_for(self, queryset: QuerySet[Any]) -> str:
        raise NotImplementedError

    @admin.action(description=_("导出GeoJSON"), permissions=["view"])
    def export_geojson(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse:
        text = self.geojson_for(queryset)
        audit_record(
            action="data.export",
            actor=request.user,
            obj=None,
            object_type=self.opts.label_lower,
            result="ok",
            data={"format": "geojson", "rows": queryset.count()},
            request=request,
        )
        response = HttpResponse(text, content_type="application/geo+json; charset=utf-8")
        filename = f"{self.opts.model_name}-{timezone.localdate():%Y%m%d}.geojson"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class RegionAdminForm(forms.ModelForm):
    """Validates what the places services would refuse, so a bad edit is a form error and never a 500."""

    class Meta:
        model = Region
        fields = [
            "parent",
            "level",
            "code",
            "name",
            "households",
            "population",
            "address",
            "boundary",
            "lat",
            "lng",
        ]

    def clean_boundary(self) -> Any:
        return _clean_geometry(self.cleaned_data.get("boundary"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lat, lng = data.get("lat"), data.get("lng")
        if (lat is None) != (lng is None):
            raise ValidationError(_("纬度和经度须同时填写"))
        if self.instance.pk is None and data.get("level"):
            try:
                region_placement_check(
                    parent=data.get("parent"),
                    level=data["level"],
                    code=data.get("code") or "",
                    name=data.get("name") or "",
                )
            except PlacesError as exc:
                field = {"invalid_parent": "parent", "invalid_level": "level"}.get(exc.code, "code")
                self.add_error(field, exc.message)
        return data


class GridAdminForm(forms.ModelForm):
    class Meta:
        model = Grid
        fields = ["community", "code", "name", "households", "boundary"]

    def clean_boundary(self) -> Any:
        boundary = _clean_geometry(self.cleaned_data.get("boundary"))
        if boundary is None:
            raise ValidationError(_("网格必须有边界"))
        return boundary


def _clean_geometry(boundary: Any) -> Any:
    if boundary in (None, "", {}):
        return None
    try:
        geometry_from_geojson(boundary)
    except GeometryError as exc:
        raise ValidationError(exc.message, code=exc.code) from exc
    return boundary


@admin.register(Region)
class RegionAdmin(GeoJsonAdmin):
    """Every save goes through the places services: the path, the bounding box and the locator's version
    stamp stay in step with the geometry (a direct model save would leave the locator stale)."""

    form = RegionAdminForm
    list_display = ["name", "level", "code", "parent", "households", "area_m2"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    readonly_fields = ["path", "grid", "area_m2"]
    autocomplete_fields = ["parent"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The place in the tree is fixed once created: moving a subtree would rewrite every path under it.
        return [*self.readonly_fields, *(["parent", "level", "code"] if obj is not None else [])]

    def save_model(self, request: HttpRequest, obj: Region, form: Any, change: bool) -> None:
        data = form.cleaned_data
        point = (data["lat"], data["lng"]) if data.get("lat") is not None else None
        geometry_changed = bool({"boundary", "lat", "lng"} & set(form.changed_data))
        try:
            if change:
                region_update(
                    region=obj,
                    name=data["name"],
                    households=data["households"],
                    population=data["population"],
                    address=data["address"],
                    boundary=data.get("boundary") if geometry_changed else None,
                    point=point if geometry_changed and data.get("boundary") is None else None,
                )
            else:
                created = region_create(
                    parent=data.get("parent"),
                    level=data["level"],
                    code=data["code"],
                    name=data["name"],
                    boundary=data.get("boundary"),
                    point=point if data.get("boundary") is None else None,
                    households=data["households"],
                    population=data["population"],
                    address=data["address"],
                )
                obj.pk = created.pk
                obj.refresh_from_db()
        except PlacesError as exc:  # the form validated; a concurrent edit may still collide
            raise ValidationError(exc.message, code=exc.code) from exc

    def geojson_for(self, queryset: QuerySet[Any]) -> str:
        return geojson_export(regions=queryset)


@admin.register(Grid)
class GridAdmin(GeoJsonAdmin):
    form = GridAdminForm
    list_display = ["name", "code", "community", "households", "area_m2"]
    search_fields = ["name", "code"]
    list_filter = ["community__parent"]
    readonly_fields = ["region_path", "lat", "lng", "area_m2"]
    autocomplete_fields = ["community"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.readonly_fields, *(["code"] if obj is not None else [])]

    def save_model(self, request: HttpRequest, obj: Grid, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                grid_update(
                    grid=obj,
                    community=data["community"],
                    name=data["name"],
                    households=data["households"],
                    boundary=data["boundary"] if "boundary" in form.changed_data else None,
                )
            else:
                created = grid_create(
                    community=data["community"],
                    code=data["code"],
                    name=data["name"],
                    boundary=data["boundary"],
                    households=data["households"],
                )
                obj.pk = created.pk
                obj.refresh_from_db()
        except PlacesError as exc:
            raise ValidationError(exc.message, code=exc.code) from exc

    def geojson_for(self, queryset: QuerySet[Any]) -> str:
        return geojson_export(grids=queryset)


@admin.register(GeometryVersion)
class GeometryVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "updated_at"]
    readonly_fields = ["version", "token", "updated_at"]
