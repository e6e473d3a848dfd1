from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from linli.accounts.forms import MembershipAdminForm
from linli.accounts.models import ApiToken, Membership, Unit, User


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipAdminForm  # refuses grants that break the separation of duties (AC-5)
    extra = 0
    autocomplete_fields = ["region", "grid", "unit"]
    fk_name = "user"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "kind", "is_active", "last_login"]
    list_filter = ["kind", "is_active", "memberships__role"]
    search_fields = ["username", "display_name"]
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("邻里", {"fields": ("kind", "display_name", "phone")}))
    inlines = [MembershipInline]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "region", "phone", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    autocomplete_fields = ["region"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["user", "role", "region", "grid", "unit", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__username", "user__display_name"]
    autocomplete_fields = ["user", "region", "grid", "unit"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hash", "created_at", "last_used_at"]
