"""Input validation for the station pages (the services decide; these only parse)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.catalog.models import ServiceItem
from linli.stations.hours import WEEKDAY_LABELS, HoursError, Period, format_day, parse_day
from linli.stations.models import ChecklistItem, MenuTier, PartnerKind, Station, StationPartner


class NearbyForm(forms.Form):
    """The public list's filters; lat/lng come from the browser (or a shared link)."""

    service = forms.CharField(required=False, max_length=40)
    open_now = forms.BooleanField(required=False)
    lat = forms.FloatField(required=False)
    lng = forms.FloatField(required=False)


class StationInfoForm(forms.ModelForm):
    class Meta:
        model = Station
        fields = [
            "name",
            "address",
            "phone",
            "contact_name",
            "description",
            "lat",
            "lng",
            "office_area_m2",
            "public_area_m2",
            "is_published",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class HoursForm(forms.Form):
    """One text field per weekday ("09:00-12:00, 13:30-17:30"; empty = closed) plus the flags."""

    is_24h = forms.BooleanField(label=_("24小时开放"), required=False)
    open_on_holidays = forms.BooleanField(label=_("法定节假日开放"), required=False)
    hours_note = forms.CharField(label=_("时间说明"), required=False, max_length=200)

    def __init__(self, *args: Any, station: Station | None = None, **kwargs: Any) -> None:
        if station is not None and "initial" not in kwargs:
            by_day: dict[int, list[Period]] = {}
            for p in station.periods.all():
                by_day.setdefault(p.weekday, []).append(Period(p.weekday, p.opens, p.closes))
            kwargs["initial"] = {
                "is_24h": station.is_24h,
                "open_on_holidays": station.open_on_holidays,
                "hours_note": station.hours_note,
                **{f"day_{d}": format_day(sorted(by_day.get(d, []))) for d in range(8)},
            }
        super().__init__(*args, **kwargs)
        for d, label in enumerate(WEEKDAY_LABELS):
            self.fields[f"day_{d}"] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                help_text=_("节假日开放时使用;留空则沿用当天星期的时段") if d == 7 else "",
            )

    def periods(self) -> list[Period]:
        out: list[Period] = []
        for d in range(8):
            try:
                out.extend(parse_day(self.cleaned_data.get(f"day_{d}", ""), d))
            except HoursError as exc:
                self.add_error(f"day_{d}", exc.message)
        return out


class MenuAddForm(forms.Form):
    item = forms.ModelChoiceField(
        label=_("服务事项"),
        queryset=ServiceItem.objects.filter(is_active=True).order_by("sort_order", "code"),
    )
    tier = forms.ChoiceField(label=_("层次"), choices=MenuTier.choices)
    note = forms.CharField(label=_("本站说明"), required=False, max_length=200)


class ChecklistForm(forms.Form):
    item = forms.ChoiceField(choices=ChecklistItem.choices)
    met = forms.BooleanField(label=_("已达标"), required=False)
    evidence = forms.CharField(label=_("佐证说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PartnerForm(forms.Form):
    """A partner organisation (以场地换服务); ``station_partner_save`` checks the dates and the rest."""

    name = forms.CharField(label=_("单位名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=PartnerKind.choices)
    services = forms.CharField(label=_("提供的服务"), max_length=200, help_text=_("例如“每周二亲子绘本共读”"))
    space = forms.CharField(label=_("使用的场地"), max_length=100, required=False)
    since = forms.DateField(
        label=_("合作开始"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("合作结束"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    is_active = forms.BooleanField(label=_("合作中"), required=False, initial=True)

    @classmethod
    def for_partner(cls, partner: StationPartner) -> PartnerForm:
        initial = {
            "name": partner.name,
            "kind": partner.kind,
            "services": partner.services,
            "space": partner.space,
            "since": partner.since,
            "until": partner.until,
            "is_active": partner.is_active,
        }
        return cls(initial=initial, prefix=f"partner-{partner.pk}")


class PhotoForm(forms.Form):
    file = forms.FileField(label=_("照片(JPEG/PNG/HEIC,≤10MB)"))
    caption = forms.CharField(label=_("说明"), required=False, max_length=100)


class SitingForm(forms.Form):
    k = forms.IntegerField(label=_("新增站点数"), min_value=1, max_value=20, initial=5)
    minutes = forms.TypedChoiceField(
        label=_("步行圈"), choices=[(5, _("5分钟")), (15, _("15分钟"))], coerce=int, initial=5
    )
