from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserChangeForm, UsernameField
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import Membership, User
from linli.security.duties import (
    DUTY_OF_ROLE,
    SYSTEM,
    duties_combined_message,
    duties_held,
    duty_conflict,
    duty_conflict_message,
    superuser_conflict_message,
)


class StaffLoginForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput, max_length=128)


class PhoneForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20)


class PhoneLoginForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20)
    sms_code = forms.CharField(label=_("验证码"), max_length=6, min_length=6)


class OtpTokenForm(forms.Form):
    """A 6-digit authenticator code, or an 8-digit backup code (spaces and dashes ignored)."""

    token = forms.CharField(label=_("动态口令"), max_length=12, min_length=6)

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip().replace(" ", "").replace("-", "")
        if not token.isdigit() or len(token) not in {6, 8}:
            raise forms.ValidationError(_("请输入6位动态口令或8位备用码"), code="invalid_token")
        return token


def user_row_lock(user_id: int) -> None:
    """Take the account's row lock, as ``membership_grant`` does, before reading its duties: concurrent
    saves for one person then queue, and the second one sees what the first stored (AC-5). Only inside
    a transaction (the admin's views are atomic); on SQLite IMMEDIATE transactions already queue."""
    if transaction.get_connection().in_atomic_block:
        list(User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True))


class MembershipAdminForm(forms.ModelForm):
    """The admin's membership form refuses a grant that breaks the separation of duties (AC-5).

    Only validation: the same rule ``membership_grant`` enforces, read under the same lock (the
    account's row); ``linli_check_duties`` reports anything that got past both.
    """

    # False on the user page's inline rows: ``MembershipInlineFormSet`` checks them together instead.
    checks_duties_alone = True

    class Meta:
        model = Membership
        fields = ["user", "role", "region", "grid", "unit", "is_active", "note"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.checks_duties_alone:
            return cleaned
        user, role = cleaned.get("user") or getattr(self.instance, "user", None), cleaned.get("role")
        if user is not None and user.pk is not None and role and cleaned.get("is_active", True):
            user_row_lock(user.pk)
            held = duties_held(user)
            if self.instance.pk is not None and self.instance.is_active:
                # Editing this row: its current duty is being replaced, not added to.
                old = DUTY_OF_ROLE.get(self.instance.role)
                if (
                    old is not None
                    and not Membership.objects.filter(user=user, role=self.instance.role, is_active=True)
                    .exclude(pk=self.instance.pk)
                    .exists()
                    and not (old == "system" and user.is_superuser)
                ):
                    held.discard(old)
            clash = duty_conflict(held=held, role=role)
            if clash is not None:
                raise forms.ValidationError(
                    duty_conflict_message(role=role, held_duty=clash), code="duty_conflict"
                )
        return cleaned


class UserAdminChangeForm(UserChangeForm):
    """The admin's user form. The superuser flag counts as the system admin's duty (AC-5); it is checked
    with the membership rows as they will be after this save (``MembershipInlineFormSet``), so an auditor
    becomes a system admin in one save by switching the auditor's row off and ticking the flag."""

    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"username": UsernameField}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is not None:
            # Before the inline rows are checked (after this form), so they read the locked state.
            user_row_lock(self.instance.pk)
        return cleaned


class MembershipInlineForm(MembershipAdminForm):
    checks_duties_alone = False


class MembershipInlineFormSet(BaseInlineFormSet):
    """The membership rows on the user's admin page, checked together (AC-5). A row checked alone against
    the stored rows would let two duties added in one save both pass (and refuse swapping one duty for
    another in one save); so the rows are checked as they will be after the save (deleted and
    deactivated rows left out), with any stored rows not on the page and the superuser flag as
    submitted."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return  # a row's own error already says what is wrong
        user = self.instance
        duties: set[str] = set()
        on_page: set[int] = set()
        for form in self.forms:
            if form.instance.pk is not None:
                on_page.add(form.instance.pk)
            data = getattr(form, "cleaned_data", None) or {}
            if not data or (self.can_delete and data.get("DELETE")):
                continue
            role = data.get("role")
            if data.get("is_active") and role in DUTY_OF_ROLE:
                duties.add(DUTY_OF_ROLE[role])
        if user.pk is not None:
            stored = Membership.objects.filter(user_id=user.pk, is_active=True, role__in=list(DUTY_OF_ROLE))
            roles = stored.exclude(pk__in=on_page).values_list("role", flat=True)
            duties |= {DUTY_OF_ROLE[role] for role in roles}
        if user.is_superuser:  # the submitted flag: the user form has already been cleaned onto it
            duties.add(SYSTEM)
        if len(duties) > 1:
            others = sorted(duties - {SYSTEM})
            if user.is_superuser and len(others) == 1:
                # The flag on an auditor or security admin: say which duty stands in the way.
                raise forms.ValidationError(superuser_conflict_message(others[0]), code="duty_conflict")
            raise forms.ValidationError(duties_combined_message(duties), code="duty_conflict")
