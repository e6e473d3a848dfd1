"""Input validation for the staff pages (the services check scope and state)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.needs.models import (
    CapacityUnit,
    Category,
    IncubationStage,
    NeedSource,
    NeedStatus,
    OrgFocus,
    OrgKind,
    ProviderKind,
    ResourceKind,
    Urgency,
)
from linli.needs.selectors import (
    organisations_pool,
    regions_managed,
    regions_reportable,
    stations_pool,
    volunteer_teams_pool,
)
from linli.places.models import Level

ALL = _("全部")


def _blank(choices: Any, label: Any = ALL) -> list[tuple[str, Any]]:
    return [("", label), *choices]


def _region_choices(user: Any, levels: tuple[str, ...]) -> list[tuple[int, str]]:
    return [(r.pk, f"{r.name}({r.get_level_display()})") for r in regions_managed(user=user, levels=levels)]


# --- filters (GET) ---------------------------------------------------------------------------------
class NeedFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=_blank(NeedStatus.choices), required=False)
    category = forms.ChoiceField(label=_("类别"), choices=_blank(Category.choices), required=False)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=_blank(Urgency.choices), required=False)
    source_kind = forms.ChoiceField(label=_("来源"), choices=_blank(NeedSource.choices), required=False)
    community = forms.TypedChoiceField(label=_("社区"), coerce=int, empty_value=None, required=False)
    q = forms.CharField(label=_("关键词"), max_length=50, required=False)

    def __init__(self, *args: Any, communities: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = _blank([(c.pk, c.name) for c in communities])  # type: ignore[attr-defined]


class ResourceFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("资源类型"), choices=_blank(ResourceKind.choices), required=False)
    category = forms.ChoiceField(label=_("类别"), choices=_blank(Category.choices), required=False)
    provider_kind = forms.ChoiceField(label=_("提供方"), choices=_blank(ProviderKind.choices), required=False)
    available = forms.BooleanField(label=_("仅有剩余"), required=False)
    q = forms.CharField(label=_("关键词"), max_length=50, required=False)


class ProjectFilterForm(forms.Form):
    category = forms.ChoiceField(label=_("类别"), choices=_blank(Category.choices), required=False)
    q = forms.CharField(label=_("关键词"), max_length=50, required=False)


class OrgFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=_blank(OrgKind.choices), required=False)
    stage = forms.ChoiceField(label=_("孵化阶段"), choices=_blank(IncubationStage.choices), required=False)
    q = forms.CharField(label=_("关键词"), max_length=50, required=False)


# --- creating ------------------------------------------------------------------------------------
class NeedForm(forms.Form):
    title = forms.CharField(label=_("需求"), max_length=100)
    category = forms.ChoiceField(label=_("类别"), choices=Category.choices)
    source_kind = forms.ChoiceField(label=_("来源"), choices=NeedSource.choices)
    source_case = forms.IntegerField(label=_("来源工单编号(ID)"), required=False, min_value=1)
    source_visit = forms.IntegerField(label=_("来源走访记录编号(关爱走访)"), required=False, min_value=1)
    source_ref = forms.CharField(label=_("来源记录(走访、会议)"), max_length=100, required=False)
    region = forms.TypedChoiceField(label=_("小区/社区"), coerce=int, required=False, empty_value=None)
    beneficiaries = forms.IntegerField(label=_("受益人数"), min_value=1, max_value=100_000, initial=1)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL)
    description = forms.CharField(
        label=_("详细情况"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False
    )
    contact_name = forms.CharField(label=_("联系人(选填)"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话(选填)"), max_length=30, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = _blank(  # type: ignore[attr-defined]
            [(r.pk, f"{r.name}({r.get_level_display()})") for r in regions_reportable(user=user)[:2000]],
            _("请选择"),
        )


class ResourceForm(forms.Form):
    name = forms.CharField(label=_("资源名称"), max_length=100)
    kind = forms.ChoiceField(label=_("资源类型"), choices=ResourceKind.choices)
    category = forms.ChoiceField(label=_("服务类别"), choices=Category.choices)
    provider_kind = forms.ChoiceField(label=_("提供方类型"), choices=ProviderKind.choices)
    organisation = forms.TypedChoiceField(label=_("提供组织"), coerce=int, required=False, empty_value=None)
    station = forms.TypedChoiceField(label=_("提供阵地"), coerce=int, required=False, empty_value=None)
    volunteer_team = forms.TypedChoiceField(
        label=_("志愿服务队(已登记的)"), coerce=int, required=False, empty_value=None
    )
    provider_name = forms.CharField(label=_("志愿者名称(未登记服务队时)"), max_length=100, required=False)
    region = forms.TypedChoiceField(label=_("所属区域"), coerce=int)
    capacity = forms.IntegerField(label=_("可服务数量"), min_value=1, max_value=1_000_000)
    capacity_unit = forms.ChoiceField(label=_("数量单位"), choices=CapacityUnit.choices)
    valid_from = forms.DateField(
        label=_("有效期自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("有效期至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    lat = forms.FloatField(label=_("纬度(选填)"), required=False)
    lng = forms.FloatField(label=_("经度(选填)"), required=False)
    description = forms.CharField(
        label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = _region_choices(  # type: ignore[attr-defined]
            user, (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.ESTATE)
        )
        self.fields["organisation"].choices = _blank(  # type: ignore[attr-defined]
            [(o.pk, o.name) for o in organisations_pool(user=user)[:2000]], "—"
        )
        self.fields["station"].choices = _blank(  # type: ignore[attr-defined]
            [(s.pk, s.name) for s in stations_pool(user=user)[:2000]], "—"
        )
        self.fields["volunteer_team"].choices = _blank(  # type: ignore[attr-defined]
            [(t.pk, t.name) for t in volunteer_teams_pool(user=user)[:2000]], "—"
        )


class ResourceCapacityForm(forms.Form):
    capacity = forms.IntegerField(label=_("可服务数量"), min_value=1, max_value=1_000_000)
    valid_until = forms.DateField(
        label=_("有效期至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    is_active = forms.BooleanField(label=_("有效"), required=False)


class ProjectForm(forms.Form):
    title = forms.CharField(label=_("项目名称"), max_length=100)
    summary = forms.CharField(label=_("公开简介(将在公示页展示,勿含个人信息)"), max_length=300)
    category = forms.ChoiceField(label=_("类别"), choices=Category.choices)
    community = forms.TypedChoiceField(label=_("社区"), coerce=int)
    needs = forms.TypedMultipleChoiceField(label=_("满足的需求"), coerce=int)
    planned_end = forms.DateField(
        label=_("计划完成日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    description = forms.CharField(
        label=_("内部说明"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False
    )
    is_public = forms.BooleanField(label=_("公开进度"), required=False, initial=True)

    def __init__(self, *args: Any, user: Any, needs: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = _blank(  # type: ignore[attr-defined]
            _region_choices(user, (Level.COMMUNITY,)), _("请选择")
        )
        # Picking a community reloads its needs below (htmx); without JS the noscript button does it.
        self.fields["community"].widget.attrs.update(
            {"hx-get": reverse("needs:project_new"), "hx-target": "#needs-field", "hx-swap": "outerHTML"}
        )
        self.fields["needs"].choices = [(n.pk, f"{n.title}({n.get_status_display()})") for n in needs]  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), max_length=500, required=False)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("不采纳的理由"), max_length=200)


class ClaimForm(forms.Form):
    organisation = forms.TypedChoiceField(label=_("认领组织"), coerce=int)
    note = forms.CharField(label=_("说明"), max_length=500, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [  # type: ignore[attr-defined]
            (o.pk, f"{o.name}({o.get_kind_display()})") for o in organisations_pool(user=user)[:2000]
        ]


class ServiceForm(forms.Form):
    """A volunteer's day of service on a project (the teams and volunteers come from its resources)."""

    team = forms.TypedChoiceField(label=_("服务队"), coerce=int)
    volunteer = forms.TypedChoiceField(label=_("志愿者"), coerce=int)
    served_on = forms.DateField(label=_("服务日期"), widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.DecimalField(label=_("时长(小时)"), min_value=0.25, max_value=24, decimal_places=2)

    def __init__(self, *args: Any, teams: Any = (), volunteers: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [(t.pk, t.name) for t in teams]  # type: ignore[attr-defined]
        # Names as the viewer may see them (masked unless they may reveal): (id, label) pairs.
        self.fields["volunteer"].choices = list(volunteers)  # type: ignore[attr-defined]


class RepresentativeForm(forms.Form):
    phone = forms.CharField(label=_("联络人手机号(须已用该号码登录过)"), max_length=20)


class ReportForm(forms.Form):
    text = forms.CharField(label=_("进展"), max_length=500)
    progress = forms.IntegerField(label=_("进度(%)"), min_value=0, max_value=100)
    is_public = forms.BooleanField(label=_("公开"), required=False, initial=True)


class EvaluateForm(forms.Form):
    score = forms.IntegerField(label=_("评估得分(1-5)"), min_value=1, max_value=5)
    note = forms.CharField(label=_("评估意见"), max_length=500, required=False)


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=OrgKind.choices)
    focus = forms.ChoiceField(label=_("服务领域"), choices=OrgFocus.choices, required=False)
    region = forms.TypedChoiceField(label=_("所属区域"), coerce=int)
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=18, required=False)
    address = forms.CharField(label=_("办公地址"), max_length=200, required=False)
    services = forms.CharField(label=_("可提供的服务"), max_length=300, required=False)
    description = forms.CharField(
        label=_("简介"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    agreement_since = forms.DateField(
        label=_("共建协议签订日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = _region_choices(  # type: ignore[attr-defined]
            user, (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.ESTATE)
        )


class IncubationForm(forms.Form):
    note = forms.CharField(label=_("说明"), max_length=500, required=False)
    occurred_on = forms.DateField(
        label=_("发生日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    credit_code = forms.CharField(label=_("统一社会信用代码(注册登记时)"), max_length=18, required=False)
    amount_yuan = forms.IntegerField(label=_("购买服务金额(元)"), min_value=1, required=False)
