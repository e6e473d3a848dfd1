from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.forms import BaseForm
from django.forms.formsets import BaseFormSet
from django.http import HttpRequest, HttpResponse

from linli.accounts.forms import (
    MembershipAdminForm,
    MembershipInlineForm,
    MembershipInlineFormSet,
    UserAdminChangeForm,
)
from linli.accounts.models import ApiToken, Membership, Unit, User
from linli.security.audit import audit_record
from linli.security.models import AuditResult

DUTY_CONFLICT = "duty_conflict"


def _has_duty_conflict(errors: Any) -> bool:
    """Whether an ErrorDict (per field) or ErrorList holds a ``duty_conflict`` refusal."""
    lists = errors.values() if isinstance(errors, dict) else [errors]
    return any(getattr(e, "code", "") == DUTY_CONFLICT for errs in lists for e in errs.as_data())


def _duty_refusals(forms: list[BaseForm], formsets: list[BaseFormSet]) -> list[str]:
    """Where a submitted page was refused by the separation of duties: ``user``, ``membership``,
    ``memberships`` (the inline rows together)."""
    where = []
    for form in forms:
        if form.is_bound and _has_duty_conflict(form.errors):
            where.append("user" if isinstance(form, UserAdminChangeForm) else "membership")
    for formset in formsets:
        if not formset.is_bound:
            continue
        if any(_has_duty_conflict(f.errors) for f in formset.forms):
            where.append("membership")
        if _has_duty_conflict(formset.non_form_errors()):
            where.append("memberships")
    return where


class DutyRefusalAuditMixin:
    """One ``role.grant`` denied row per admin save refused by the separation of duties (AUD-1), as
    ``membership_grant`` writes for the same refusal; the page then shows the error and saves nothing."""

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> HttpResponse:
        if request.method == "POST":
            adminform = context.get("adminform")
            forms = [adminform.form] if adminform is not None else []
            formsets = [inline.formset for inline in context.get("inline_admin_formsets", [])]
            where = _duty_refusals(forms, formsets)
            if where:
                # The person whose duties were at stake: the user page's account, or the membership's user.
                person = kwargs.get("obj")
                if not isinstance(person, User) and forms:
                    person = getattr(forms[0], "cleaned_data", {}).get("user")
                audit_record(
                    action="role.grant",
                    actor=request.user,
                    obj=person if isinstance(person, User) and person.pk else None,
                    result=AuditResult.DENIED,
                    data={"via": "admin", "code": DUTY_CONFLICT, "refused": sorted(set(where))},
                    request=request,
                )
        return super().render_change_form(request, context, *args, **kwargs)  # type: ignore[misc]


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    formset = MembershipInlineFormSet  # the rows together with the superuser flag (AC-5)
    extra = 0
    autocomplete_fields = ["region", "grid", "unit"]
    fk_name = "user"


@admin.register(User)
class UserAdmin(DutyRefusalAuditMixin, BaseUserAdmin):
    form = UserAdminChangeForm  # the superuser flag is refused on a security admin or auditor (AC-5)
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
class MembershipAdmin(DutyRefusalAuditMixin, admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["user", "role", "region", "grid", "unit", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__username", "user__display_name"]
    autocomplete_fields = ["user", "region", "grid", "unit"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hash", "created_at", "last_used_at"]
