"""Input validation for the party pages (the services decide everything else)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.party.models import CommitmentKind, HoursSource, PartyOrg, Volunteer, VolunteerTeam
from linli.places.models import Level, Region

COMMITMENT_SLOTS = 3


class CommunityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        parent = obj.parent.name if obj.parent_id else ""
        return f"{parent} · {obj.name}" if parent else str(obj.name)


class CheckInForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    phone = forms.CharField(label=_("手机号(默认使用登录手机号)"), max_length=20, required=False)
    community = CommunityChoiceField(
        label=_("报到社区(居住地)"),
        queryset=Region.objects.filter(level=Level.COMMUNITY).select_related("parent").order_by("path"),
    )
    employer = forms.CharField(label=_("工作单位"), max_length=100)
    employer_org = forms.CharField(label=_("组织关系所在党组织"), max_length=100, required=False)
    skills = forms.CharField(label=_("特长与可服务时间"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, COMMITMENT_SLOTS + 1):
            self.fields[f"kind_{i}"] = forms.ChoiceField(
                label=_("承诺类别"), choices=CommitmentKind.choices, initial=CommitmentKind.VOLUNTEER
            )
            self.fields[f"text_{i}"] = forms.CharField(
                label=_("承诺事项 %(n)s") % {"n": i}, max_length=200, required=(i == 1)
            )

    def commitments(self) -> list[tuple[str, str]]:
        data = self.cleaned_data
        return [(data[f"kind_{i}"], data.get(f"text_{i}", "")) for i in range(1, COMMITMENT_SLOTS + 1)]

    def commitment_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"kind_{i}"], self[f"text_{i}"]) for i in range(1, COMMITMENT_SLOTS + 1)]


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class ConfirmForm(NoteForm):
    assigned_org = forms.ModelChoiceField(
        label=_("编入组织"), queryset=PartyOrg.objects.none(), required=False
    )

    def __init__(self, *args: Any, orgs: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if orgs is not None:
            self.fields["assigned_org"].queryset = orgs  # type: ignore[attr-defined]


class HoursForm(forms.Form):
    volunteer = forms.ModelChoiceField(label=_("志愿者"), queryset=Volunteer.objects.none())
    team = forms.ModelChoiceField(label=_("服务队"), queryset=VolunteerTeam.objects.none(), required=False)
    # Corrections and project hours are never entered here (the correction form; the project's completion).
    source = forms.ChoiceField(
        label=_("来源"),
        choices=[c for c in HoursSource.choices if c[0] not in (HoursSource.CORRECTION, HoursSource.PROJECT)],
    )
    source_ref = forms.CharField(label=_("来源编号(活动、任务或工单编号)"), max_length=64, required=False)
    title = forms.CharField(label=_("服务内容"), max_length=100)
    served_on = forms.DateField(label=_("服务日期"), widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.DecimalField(label=_("时长(小时)"), min_value=0.25, max_value=24, decimal_places=2)

    def __init__(self, *args: Any, volunteers: Any = None, teams: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if volunteers is not None:
            self.fields["volunteer"].queryset = volunteers  # type: ignore[attr-defined]
        if teams is not None:
            self.fields["team"].queryset = teams  # type: ignore[attr-defined]
        self.fields["served_on"].initial = timezone.localdate()


class FulfilForm(forms.Form):
    """践诺: what was done and, optionally, the hours it took (credited to the member's volunteer ledger)."""

    note = forms.CharField(label=_("践诺情况"), max_length=200)
    hours = forms.DecimalField(
        label=_("服务时长(小时,选填)"), min_value=0.25, max_value=24, decimal_places=2, required=False
    )
    served_on = forms.DateField(
        label=_("服务日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class CorrectionForm(forms.Form):
    hours = forms.DecimalField(label=_("扣减时长(小时)"), min_value=0.01, max_value=24, decimal_places=2)
    reason = forms.CharField(label=_("更正原因"), max_length=90)


class CertificateForm(forms.Form):
    period_start = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
