from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import Membership
from linli.security.duties import DUTY_OF_ROLE, duties_held, duty_conflict, duty_conflict_message


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


class MembershipAdminForm(forms.ModelForm):
    """The admin's membership form refuses a grant that breaks the separation of duties (AC-5).

    Only validation: the same rule ``membership_grant`` enforces under a lock; ``linli_check_duties``
    reports anything that got past both.
    """

    class Meta:
        model = Membership
        fields = ["user", "role", "region", "grid", "unit", "is_active", "note"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        user, role = cleaned.get("user") or getattr(self.instance, "user", None), cleaned.get("role")
        if user is not None and user.pk is not None and role and cleaned.get("is_active", True):
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
