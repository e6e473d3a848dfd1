"""Input validation for the bookings pages (no logic: the services decide)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.bookings.models import MINUTES_MAX, Outcome, ResourceKind
from linli.bookings.transitions import AGENCY_TRANSITIONS


class BookingStepForm(forms.Form):
    """The resident's progress through station → item → day → slot (GET parameters)."""

    station = forms.IntegerField(required=False, min_value=1)
    item = forms.IntegerField(required=False, min_value=1)
    day = forms.DateField(required=False)
    slot = forms.IntegerField(required=False, min_value=1)


class ConfirmForm(forms.Form):
    slot_id = forms.IntegerField(min_value=1)
    note = forms.CharField(label=_("备注(选填)"), max_length=200, required=False)


class RescheduleForm(forms.Form):
    slot_id = forms.IntegerField(min_value=1)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), max_length=500, required=False)


class RecordForm(forms.Form):
    appointment_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    item = forms.IntegerField(label=_("服务事项"), required=False, min_value=1)
    outcome = forms.ChoiceField(label=_("办理结果"), choices=Outcome.choices)
    minutes = forms.IntegerField(label=_("用时(分钟)"), min_value=1, max_value=MINUTES_MAX, initial=10)
    resident_phone = forms.CharField(label=_("群众手机号(选填)"), max_length=20, required=False)
    visitor_name = forms.CharField(label=_("群众姓名(选填)"), max_length=50, required=False)
    note = forms.CharField(label=_("备注"), max_length=500, required=False)


class GenerateForm(forms.Form):
    item = forms.IntegerField(label=_("服务事项"), min_value=1)
    first_day = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    length_minutes = forms.IntegerField(label=_("每段(分钟)"), min_value=5, max_value=240, initial=30)
    capacity = forms.IntegerField(label=_("每段名额"), min_value=1, max_value=200, initial=5)


class AgencyForm(forms.Form):
    item = forms.IntegerField(label=_("代办事项"), min_value=1)
    station = forms.IntegerField(label=_("办理阵地(选填)"), required=False, min_value=1)
    text = forms.CharField(label=_("情况说明"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4}))
    idempotency_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class AgencyStaffForm(AgencyForm):
    beneficiary_name = forms.CharField(label=_("代办对象姓名"), max_length=50, required=False)
    beneficiary_phone = forms.CharField(label=_("代办对象手机号"), max_length=20, required=False)
    door_to_door = forms.BooleanField(label=_("上门代办"), required=False)
    # A manual override: the registry is looked up by phone first (services.agency).
    in_care_registry = forms.BooleanField(label=_("名册中查不到,已人工核实为关爱对象"), required=False)
    care_note = forms.CharField(label=_("关爱说明"), max_length=200, required=False)


class StepForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, t.label) for a, t in AGENCY_TRANSITIONS.items()])
    note = forms.CharField(max_length=500, required=False)


class RoomBookForm(forms.Form):
    day = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("开始"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_("结束"), widget=forms.TimeInput(attrs={"type": "time"}))
    purpose = forms.CharField(label=_("用途"), max_length=200)
    attendees = forms.IntegerField(label=_("人数"), min_value=1, max_value=999, initial=1)

    def period(self) -> tuple[dt.datetime, dt.datetime]:
        tz = timezone.get_current_timezone()
        day = self.cleaned_data["day"]
        return (
            dt.datetime.combine(day, self.cleaned_data["start"], tzinfo=tz),
            dt.datetime.combine(day, self.cleaned_data["end"], tzinfo=tz),
        )


class LendForm(forms.Form):
    borrower_phone = forms.CharField(label=_("借用人手机号"), max_length=20)
    quantity = forms.IntegerField(label=_("数量"), min_value=1, max_value=99, initial=1)


class ResourceForm(forms.Form):
    station = forms.IntegerField(label=_("阵地"), min_value=1)
    kind = forms.ChoiceField(label=_("类型"), choices=ResourceKind.choices)
    name = forms.CharField(label=_("名称"), max_length=100)
    description = forms.CharField(label=_("说明"), max_length=300, required=False)
    capacity = forms.IntegerField(label=_("容纳人数(场地)"), min_value=1, max_value=2000, required=False)
    min_minutes = forms.IntegerField(label=_("最短(分钟)"), min_value=1, max_value=1440, initial=30)
    max_minutes = forms.IntegerField(label=_("最长(分钟)"), min_value=1, max_value=1440, initial=240)
    advance_days = forms.IntegerField(label=_("最多提前(天)"), min_value=1, max_value=365, initial=14)
    per_person_limit = forms.IntegerField(label=_("每人上限"), min_value=1, max_value=50, initial=2)
    needs_approval = forms.BooleanField(label=_("须审批"), required=False)
    quantity = forms.IntegerField(label=_("数量(工具)"), min_value=1, max_value=999, initial=1)
    loan_days = forms.IntegerField(label=_("借用天数(工具)"), min_value=1, max_value=90, initial=7)
