"""Input validation for the cases screens: the resident's report, staff intake (代客), one form per
workflow action, the queue filters. Forms only validate; the views call the services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from linli.cases.attachments import MAX_BYTES, MAX_PHOTOS
from linli.cases.errors import CaseError
from linli.cases.models import (
    STAFF_INTAKE_CHANNELS,
    CaseKind,
    Channel,
    Rating,
    Status,
    Urgency,
)
from linli.cases.pickers import Assignee, CategoryLeaf, category_choices
from linli.cases.services.submit import TEXT_MAX

KEY_PATTERN = r"^[A-Za-z0-9_.:\-]{8,64}$"
BLANK: list[tuple[str, str]] = [("", "—")]


def photos_read(files: Sequence[UploadedFile]) -> list[bytes]:
    """The uploaded photos' bytes; the service checks the type by magic bytes and re-encodes them."""
    if len(files) > MAX_PHOTOS:
        raise CaseError("too_many_photos", f"最多上传{MAX_PHOTOS}张图片")
    out = []
    for f in files:
        if f.size is not None and f.size > MAX_BYTES:
            raise CaseError("image_too_big", "图片不能超过10MB")
        out.append(f.read(MAX_BYTES + 1))
    return out


def set_choices(form: forms.Form, name: str, choices: Any) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class ReportForm(forms.Form):
    """我要反映: a resident's report (the photos come separately, already resized by the page)."""

    category = forms.TypedChoiceField(label=_("问题分类"), coerce=int, empty_value=None, required=True)
    kind = forms.ChoiceField(label=_("诉求类型"), choices=CaseKind.choices, required=False)
    text = forms.CharField(label=_("问题描述"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4}))
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    address = forms.CharField(label=_("详细地址"), max_length=200, required=False)
    community = forms.TypedChoiceField(label=_("所在社区"), coerce=int, empty_value=None, required=False)
    contact_name = forms.CharField(label=_("称呼"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    building_token = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    idempotency_key = forms.RegexField(regex=KEY_PATTERN, widget=forms.HiddenInput)
    confirm_new = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        leaves: list[CategoryLeaf],
        communities: list[tuple[int, str]],
        anonymous: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.anonymous = anonymous
        set_choices(self, "category", [("", _("请选择问题分类")), *category_choices(leaves)])
        self.fields["category"].error_messages["required"] = _("请选择问题分类")
        self.fields["text"].error_messages["required"] = _("请描述您遇到的问题")
        community_choices = [(str(pk), name) for pk, name in communities]
        set_choices(self, "community", [("", _("请选择社区(不确定可不选)")), *community_choices])
        self.fields["idempotency_key"].error_messages["invalid"] = _("页面已过期,请刷新后重新提交")
        self.fields["idempotency_key"].error_messages["required"] = _("页面已过期,请刷新后重新提交")
        if anonymous:
            self.fields["contact_phone"].required = True
            self.fields["contact_phone"].error_messages["required"] = _(
                "匿名反映请留下联系电话,以便告知办理结果"
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("lat") is None) != (data.get("lng") is None):
            raise forms.ValidationError(
                _("位置信息不完整,请重新定位或在地图上选点"), code="invalid_coordinates"
            )
        return data


class IntakeForm(forms.Form):
    """代客登记: window, hotline or patrol staff file a case for a resident."""

    channel = forms.ChoiceField(
        label=_("来源渠道"),
        choices=[(c.value, c.label) for c in Channel if c in STAFF_INTAKE_CHANNELS],
        initial=Channel.WINDOW,
    )
    category = forms.TypedChoiceField(label=_("问题分类"), coerce=int, empty_value=None)
    kind = forms.ChoiceField(label=_("诉求类型"), choices=[*BLANK, *CaseKind.choices], required=False)
    text = forms.CharField(label=_("诉求内容"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4}))
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    community = forms.TypedChoiceField(label=_("所在社区"), coerce=int, empty_value=None, required=False)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    lat = forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180)
    idempotency_key = forms.RegexField(regex=KEY_PATTERN, widget=forms.HiddenInput)

    def __init__(self, *args: Any, leaves: list[CategoryLeaf], communities: list[tuple[int, str]], **kw: Any):
        super().__init__(*args, **kw)
        set_choices(self, "category", [("", _("请选择问题分类")), *category_choices(leaves)])
        community_choices = [(str(pk), name) for pk, name in communities]
        set_choices(self, "community", [("", _("按坐标定位或不选")), *community_choices])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("channel") != Channel.GRID_PATROL and not (data.get("contact_phone") or "").strip():
            self.add_error("contact_phone", _("窗口和热线登记请留下群众的联系电话,以便回访"))
        # Only about what was given: a value already refused by its own field (a typo in 纬度, a community
        # outside the list) is not also reported as missing.
        refused = set(self.errors)
        if not refused & {"lat", "lng"} and (data.get("lat") is None) != (data.get("lng") is None):
            self.add_error("lat", _("经纬度需同时填写"))
        given = refused & {"lat", "lng", "community", "address"}
        if (
            not given
            and data.get("lat") is None
            and data.get("community") is None
            and not data.get("address")
        ):
            self.add_error("community", _("请选择社区、填写地址或坐标"))
        return data


# --- staff actions ----------------------------------------------------------------------------------
class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("说明"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, note_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].required = note_required
        self.fields["note"].error_messages["required"] = _("请填写说明")


class _Pickers(NoteForm):
    def set_choices(self, name: str, choices: list[tuple[str, str]], blank: str = "—") -> None:
        set_choices(self, name, [("", blank), *choices])


class TriageForm(_Pickers):
    kind = forms.ChoiceField(label=_("诉求类型"), choices=[*BLANK, *CaseKind.choices], required=False)
    category = forms.TypedChoiceField(label=_("分类"), coerce=int, empty_value=None, required=False)
    unit = forms.TypedChoiceField(label=_("责任单位"), coerce=int, empty_value=None, required=False)
    community = forms.TypedChoiceField(label=_("定位到社区"), coerce=int, empty_value=None, required=False)


class AssignForm(_Pickers):
    unit = forms.TypedChoiceField(label=_("责任单位"), coerce=int, empty_value=None, required=False)
    assignee = forms.TypedChoiceField(label=_("承办人"), coerce=int, empty_value=None, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("unit") is None and data.get("assignee") is None and not self.initial.get("has_unit"):
            raise forms.ValidationError(_("请选择责任单位或承办人"))
        return data


class RejectForm(_Pickers):
    rejected_to_unit = forms.TypedChoiceField(
        label=_("应由单位"), coerce=int, empty_value=None, required=False
    )
    rejected_to_text = forms.CharField(label=_("应由单位(文字)"), max_length=100, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("rejected_to_unit") is None and not (data.get("rejected_to_text") or "").strip():
            raise forms.ValidationError(_("请注明应由哪个单位受理"))
        return data


class MergeForm(NoteForm):
    duplicate_of = forms.CharField(label=_("合并到工单编号"), max_length=20)


class ResolveForm(forms.Form):
    result_text = forms.CharField(
        label=_("办理结果"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("办理结果将告知群众并可能公示,请勿填写姓名、电话、门牌等个人信息"),
    )
    photos_public = forms.BooleanField(label=_("照片可公示"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("note_required", None)
        super().__init__(*args, **kwargs)
        self.fields["result_text"].error_messages["required"] = _("请填写办理结果")


class SuperviseForm(NoteForm):
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL)


class RateForm(forms.Form):
    rating = forms.ChoiceField(label=_("评价"), choices=Rating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("意见"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("note_required", None)
        super().__init__(*args, **kwargs)
        self.fields["rating"].error_messages["required"] = _("请选择满意、基本满意或不满意")


class ReviewForm(NoteForm):
    decision = forms.ChoiceField(
        label=_("评议结论"),
        choices=[("uphold", _("认定办结")), ("redo", _("重新交办")), ("unresolved", _("未解决结案"))],
        widget=forms.RadioSelect,
    )


class RevealForm(forms.Form):
    field = forms.ChoiceField(
        choices=[("contact_phone", _("联系电话")), ("reporter_phone", _("上报人手机号"))]
    )
    reason = forms.CharField(label=_("查看理由"), max_length=200)


class BulkAssignForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    unit = forms.TypedChoiceField(label=_("责任单位"), coerce=int, empty_value=None, required=False)
    note = forms.CharField(label=_("说明"), max_length=1000, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("unit") is None:
            self.add_error("unit", _("请选择责任单位"))
        return data


# --- queue filters --------------------------------------------------------------------------------
TRI = [("", _("全部")), ("1", _("是")), ("0", _("否"))]


class QueueFilterForm(forms.Form):
    queue = forms.ChoiceField(required=False)
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部状态")), *Status.choices], required=False
    )
    # Which deadline 超期 / 预警 look at (selectors.DEADLINES); blank = the resolution deadline.
    deadline = forms.ChoiceField(
        label=_("时限"),
        choices=[
            ("", _("办结时限")),
            ("triage", _("梳理时限")),
            ("accept", _("接单时限")),
            ("any", _("任一时限")),
        ],
        required=False,
    )
    overdue = forms.ChoiceField(label=_("超期"), choices=TRI, required=False)
    warned = forms.ChoiceField(label=_("预警"), choices=TRI, required=False)
    category = forms.TypedChoiceField(label=_("分类"), coerce=int, empty_value=None, required=False)
    grid = forms.TypedChoiceField(label=_("网格"), coerce=int, empty_value=None, required=False)
    channel = forms.ChoiceField(
        label=_("渠道"), choices=[("", _("全部渠道")), *Channel.choices], required=False
    )
    q = forms.CharField(label=_("编号或标题"), max_length=50, required=False)
    page = forms.IntegerField(min_value=1, required=False)


def tri(value: str | None) -> bool | None:
    return None if value in (None, "") else value == "1"


def assignee_choices(people: list[Assignee]) -> list[tuple[str, str]]:
    return [(str(p.user_id), p.label) for p in people]


__all__ = [
    "AssignForm",
    "BulkAssignForm",
    "IntakeForm",
    "MergeForm",
    "NoteForm",
    "QueueFilterForm",
    "RateForm",
    "RejectForm",
    "ReportForm",
    "ResolveForm",
    "RevealForm",
    "ReviewForm",
    "SuperviseForm",
    "TriageForm",
    "photos_read",
    "set_choices",
    "tri",
]
