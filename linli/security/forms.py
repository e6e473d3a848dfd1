"""Input of the security screens: the auditor's search, the security admin's account search and actions
(validation only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.security.audit_labels import ACTION_LABELS
from linli.security.models import AuditResult
from linli.security.selectors import AuditFilters

MAX_RANGE_DAYS = 3660


class AuditSearchForm(forms.Form):
    actor = forms.CharField(label=_("操作人账号"), max_length=150, required=False)
    action = forms.CharField(
        label=_("操作"),
        max_length=64,
        required=False,
        help_text=_("完整名称如 auth.login,或以点结尾的类别如 auth."),
    )
    object_type = forms.CharField(label=_("对象类型"), max_length=100, required=False)
    object_id = forms.CharField(label=_("对象编号"), max_length=64, required=False)
    result = forms.ChoiceField(
        label=_("结果"), choices=[("", _("全部")), *AuditResult.choices], required=False
    )
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    request_id = forms.RegexField(
        label=_("请求编号"),
        regex=r"^[A-Za-z0-9._-]{1,64}$",
        required=False,
        error_messages={"invalid": _("请求编号只含字母、数字、点、下划线和连字符")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].widget.attrs["list"] = "audit-actions"
        self.action_choices = sorted(ACTION_LABELS.items())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("起始日期不能晚于截止日期"), code="date_order")
        if start and end and (end - start).days > MAX_RANGE_DAYS:
            raise forms.ValidationError(_("日期范围不能超过10年"), code="date_range")
        return cleaned

    def filters(self) -> AuditFilters:
        """The valid search (an invalid form searches for everything, and shows its errors)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return AuditFilters(
            actor=data.get("actor") or "",
            action=data.get("action") or "",
            object_type=data.get("object_type") or "",
            object_id=data.get("object_id") or "",
            result=data.get("result") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            request_id=data.get("request_id") or "",
        )


class AccountSearchForm(forms.Form):
    q = forms.CharField(
        label=_("工作人员账号或姓名"), max_length=150, required=False, help_text=_("输入账号或姓名的一部分")
    )


class AccountActionForm(forms.Form):
    """A security admin's action on an account: the reason goes into the audit trail."""

    reason = forms.CharField(
        label=_("理由"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("必填,例如“本人手机丢失,已当面核实身份”;将记入审计日志"),
        error_messages={"required": _("请填写操作理由")},
    )
