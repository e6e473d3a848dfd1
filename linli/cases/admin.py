"""Admin for the rules the loop runs on (categories, ladder, deadlines, routing) and a read-only case view.

Cases are changed only through the services (the workbench and the API); here they can be looked at.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from linli.cases.models import Case, CaseEvent, Category, EscalationLevel, RoutingRule, SlaPolicy


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "default_kind", "sort", "is_active"]
    list_filter = ["is_active", "default_kind", "parent"]
    search_fields = ["code", "name"]
    list_editable = ["sort", "is_active"]
    autocomplete_fields = ["parent"]


@admin.register(EscalationLevel)
class EscalationLevelAdmin(admin.ModelAdmin):
    list_display = ["rank", "code", "name", "is_active"]
    list_editable = ["is_active"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "triage_hours",
        "accept_hours",
        "resolve_amount",
        "resolve_unit",
        "warn_fraction",
        "is_active",
    ]
    list_filter = ["kind", "level", "resolve_unit", "is_active"]
    autocomplete_fields = ["category"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "region", "unit", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["category__name", "region__name", "unit__name"]
    autocomplete_fields = ["category", "region", "unit"]


EVENT_FIELDS = [
    "created_at",
    "action",
    "from_status",
    "to_status",
    "from_level",
    "to_level",
    "actor",
    "actor_role",
    "note",
]


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = tuple(EVENT_FIELDS)
    readonly_fields = tuple(EVENT_FIELDS)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "title",
        "kind",
        "category",
        "status",
        "level",
        "unit",
        "resolve_due_at",
        "created_at",
    ]
    list_filter = ["status_category", "status", "level", "kind", "channel"]
    search_fields = ["number", "title"]
    date_hierarchy = "created_at"
    exclude = ["contact_phone"]  # shown masked only; the full number is read through linli.cases.contact
    inlines = [CaseEventInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Case._meta.fields if f.name != "contact_phone"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
