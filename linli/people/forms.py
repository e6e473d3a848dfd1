"""Input validation for the people pages (no domain logic: the services decide)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.people.models import (
    CareCategory,
    CareLevel,
    Gender,
    Registration,
    Relation,
    ResidentStatus,
    StewardKind,
    VisitKind,
)

REVEAL_FIELDS = [
    ("name", _("姓名")),
    ("id_number", _("证件号码")),
    ("phone", _("联系电话")),
    ("birth_date", _("出生日期")),
]


class RegisterFilterForm(forms.Form):
    grid = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    building = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部")), *ResidentStatus.choices],
        initial=ResidentStatus.PRESENT,
    )
    registration = forms.ChoiceField(
        label=_("户籍类型"), required=False, choices=[("", _("全部")), *Registration.choices]
    )
    tag = forms.CharField(label=_("标签"), required=False, max_length=20)
    room = forms.CharField(
        label=_("房号"), required=False, max_length=30, help_text=_("可写“单元-房号”,如 2-302")
    )


class LookupForm(forms.Form):
    """Searched values travel in a POST body, never in the URL (PI-8)."""

    id_number = forms.CharField(label=_("证件号码"), required=False, max_length=30)
    phone = forms.CharField(label=_("联系电话"), required=False, max_length=30)
    name = forms.CharField(label=_("姓名(全名)"), required=False, max_length=50)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any((data.get(k) or "").strip() for k in ("id_number", "phone", "name")):
            raise forms.ValidationError(_("请填写证件号码、电话或姓名之一"))
        return data


class RevealForm(forms.Form):
    field = forms.ChoiceField(label=_("查看"), choices=REVEAL_FIELDS)
    reason = forms.CharField(label=_("理由"), max_length=200, help_text=_("必填,将记入审计日志"))


class MoveInForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(label=_("证件号码"), required=False, max_length=30)
    phone = forms.CharField(label=_("联系电话"), required=False, max_length=30)
    gender = forms.ChoiceField(
        label=_("性别"), required=False, choices=[("", _("按证件号码")), *Gender.choices]
    )
    birth_date = forms.DateField(
        label=_("出生日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    relation = forms.ChoiceField(label=_("与户主关系"), choices=Relation.choices)
    registration = forms.ChoiceField(label=_("户籍类型"), choices=Registration.choices)
    tags = forms.CharField(
        label=_("标签"), required=False, max_length=100, help_text=_("用顿号分隔,如 党员、退役军人")
    )
    moved_on = forms.DateField(
        label=_("迁入日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("说明"), required=False, max_length=200)

    def tag_list(self) -> list[str]:
        text = self.cleaned_data.get("tags") or ""
        return [t for t in text.replace(",", "、").replace(",", "、").split("、") if t.strip()]


class MoveOutForm(forms.Form):
    moved_on = forms.DateField(
        label=_("迁出日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("原因"), required=False, max_length=200)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Excel 文件(.xlsx)"))


class ExportForm(forms.Form):
    grid = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    building = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    status = forms.CharField(required=False, max_length=16, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("导出完整信息的理由"),
        required=False,
        max_length=200,
        help_text=_("不填则导出脱敏版本;填写理由并有查看完整信息权限时导出完整信息,记入审计"),
    )


class CareFilterForm(forms.Form):
    level = forms.ChoiceField(label=_("等级"), required=False, choices=[])
    category = forms.ModelChoiceField(label=_("类别"), required=False, queryset=CareCategory.objects.none())
    mine = forms.BooleanField(label=_("只看我的走访计划"), required=False)
    overdue = forms.BooleanField(label=_("只看超期"), required=False)
    closed = forms.BooleanField(label=_("显示已结束"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [("", _("全部")), *CareLevel.objects.values_list("code", "name")]  # type: ignore[attr-defined]
        self.fields["category"].queryset = CareCategory.objects.filter(is_active=True)  # type: ignore[attr-defined]


class CareOpenForm(forms.Form):
    categories = forms.ModelMultipleChoiceField(
        label=_("类别"), queryset=CareCategory.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    level = forms.ChoiceField(label=_("等级"), choices=[])
    worker = forms.ChoiceField(label=_("走访责任人"), required=False, choices=[])
    interval_days = forms.IntegerField(
        label=_("走访间隔(天,留空按等级)"), required=False, min_value=1, max_value=366
    )
    situation = forms.CharField(
        label=_("基本情况"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, workers: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["categories"].queryset = CareCategory.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["level"].choices = list(CareLevel.objects.values_list("code", "name"))  # type: ignore[attr-defined]
        self.fields["worker"].choices = [("", _("暂不指定")), *workers]  # type: ignore[attr-defined]


class CareLevelForm(forms.Form):
    level = forms.ChoiceField(label=_("等级"), choices=[])
    note = forms.CharField(label=_("说明"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = list(CareLevel.objects.values_list("code", "name"))  # type: ignore[attr-defined]


class VisitForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("方式"), choices=VisitKind.choices, widget=forms.RadioSelect, initial=VisitKind.DOOR
    )
    notes = forms.CharField(
        label=_("走访情况"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    photo = forms.FileField(
        label=_("照片"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/heic", "capture": "environment"}
        ),
    )


class CloseForm(forms.Form):
    reason = forms.CharField(label=_("结束原因"), max_length=200)


class StewardForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=StewardKind.choices)
    name = forms.CharField(label=_("姓名"), max_length=50)
    community = forms.ChoiceField(label=_("所属社区"), choices=[])
    organisation = forms.CharField(
        label=_("所属组织"), required=False, max_length=100, help_text=_("如 小区党支部、外卖站点、高校")
    )
    duty = forms.CharField(label=_("职责"), max_length=200)
    duty_phone = forms.CharField(
        label=_("值守电话"), required=False, max_length=30, help_text=_("在岗后公示在楼栋三亮卡上")
    )

    def __init__(self, *args: Any, communities: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = communities  # type: ignore[attr-defined]


class TransitionForm(forms.Form):
    action = forms.CharField(max_length=20, widget=forms.HiddenInput)
    note = forms.CharField(label=_("说明"), required=False, max_length=200)


class StewardPhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("照片"), widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/heic"})
    )
