"""Admin: the care configuration (categories, levels) is edited here; the register and the steward registry
are shown read-only and MASKED (full values only through the reveal flow on the people pages, with a
reason and an audit row). Care records and visits are not in the admin at all: only the named roles read
them, in scope (PI-3), and a system administrator is not one of them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from linli.people.models import CareCategory, CareLevel, Household, Resident, Steward
from linli.people.services import care_level_update
from linli.security.masking import mask_id_number, mask_name, mask_phone


@admin.register(CareCategory)
class CareCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "legal_reference", "retention_days", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["name", "code"]


@admin.register(CareLevel)
class CareLevelAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "visit_interval_days", "description", "sort_order"]

    def save_model(self, request: HttpRequest, obj: CareLevel, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Through the service: a new interval re-plans every active record on this level.
        care_level_update(level_id=obj.pk, changes={f: getattr(obj, f) for f in form.changed_data})


class _ReadOnly(admin.ModelAdmin):
    audit_category = "data"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        # A superuser sees every row (masked); anyone else only their scope.
        return qs if request.user.is_superuser else qs.for_user(request.user)  # type: ignore[attr-defined]


@admin.register(Household)
class HouseholdAdmin(_ReadOnly):
    list_display = ["__str__", "grid", "region_path"]
    list_select_related = ["building", "grid"]
    readonly_fields = ("building", "unit_no", "room", "grid", "region_path", "note")
    fields = readonly_fields


@admin.register(Resident)
class ResidentAdmin(_ReadOnly):
    list_display = ["masked_name", "masked_id_number", "masked_phone", "household", "status", "registration"]
    list_filter = ["status", "registration"]
    list_select_related = ["household__building"]
    readonly_fields = (
        "masked_name", "gender", "masked_id_number", "masked_phone", "household", "relation", "registration",
        "status", "moved_in_on", "moved_out_on",
    )  # fmt: skip
    fields = readonly_fields

    @admin.display(description=_("姓名"))
    def masked_name(self, obj: Resident) -> str:
        return mask_name(obj.name)

    @admin.display(description=_("证件号码"))
    def masked_id_number(self, obj: Resident) -> str:
        return mask_id_number(obj.id_number)

    @admin.display(description=_("联系电话"))
    def masked_phone(self, obj: Resident) -> str:
        return mask_phone(obj.phone)


@admin.register(Steward)
class StewardAdmin(_ReadOnly):
    list_display = ["__str__", "masked_name", "kind", "status", "community", "masked_phone"]
    list_filter = ["kind", "status"]
    list_select_related = ["community"]
    readonly_fields = (
        "masked_name",
        "kind",
        "status",
        "community",
        "grid",
        "organisation",
        "duty",
        "masked_phone",
    )
    fields = readonly_fields

    @admin.display(description=_("姓名"))
    def masked_name(self, obj: Steward) -> str:
        return mask_name(obj.name)

    @admin.display(description=_("值守电话"))
    def masked_phone(self, obj: Steward) -> str:
        return mask_phone(obj.duty_phone)
