"""Admin for the calendar. Saves and deletes go through the services (which mark rows manual and make every
process pick the change up); the admin itself writes nothing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from linli.workdays.models import CalendarDay, WorkingHours
from linli.workdays.services import (
    calendar_day_delete,
    calendar_day_set,
    working_period_delete,
    working_period_save,
)
from linli.workdays.timeline import CalendarError, validate_periods


class YearFilter(admin.SimpleListFilter):
    title = _("年份")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        years = CalendarDay.objects.dates("date", "year", order="DESC")
        return [(str(d.year), f"{d.year}") for d in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(date__year=int(value))
        return queryset


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "kind", "name", "source", "note", "updated_at"]
    list_filter = [YearFilter, "kind", "source"]
    search_fields = ["name", "note"]
    date_hierarchy = "date"
    fields = ["date", "kind", "name", "note", "source"]
    readonly_fields = ["source"]

    @admin.display(description=_("星期"))
    def weekday(self, obj: CalendarDay) -> str:
        return "一二三四五六日"[obj.date.weekday()]

    def get_readonly_fields(self, request: HttpRequest, obj: CalendarDay | None = None) -> list[str]:
        # The date is the row's identity: to move a day, delete it and add the new one.
        return ["date", "source"] if obj is not None else ["source"]

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        saved = calendar_day_set(day=obj.date, kind=obj.kind, name=obj.name, note=obj.note)
        obj.pk, obj.source = saved.pk, saved.source

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        calendar_day_delete(day=obj.date)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> None:
        for day in queryset.values_list("date", flat=True):
            calendar_day_delete(day=day)


class WorkingHoursForm(forms.ModelForm):
    class Meta:
        model = WorkingHours
        fields = ["start", "end", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None:
            others = WorkingHours.objects.exclude(pk=self.instance.pk).values_list("start", "end")
            try:
                validate_periods([*others, (start, end)])
            except CalendarError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return data


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    form = WorkingHoursForm
    list_display = ["start", "end", "note", "updated_at"]

    def save_model(self, request: HttpRequest, obj: WorkingHours, form: Any, change: bool) -> None:
        saved = working_period_save(
            period_id=obj.pk if change else None, start=obj.start, end=obj.end, note=obj.note
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request: HttpRequest, obj: WorkingHours | None = None) -> bool:
        return super().has_delete_permission(request, obj) and WorkingHours.objects.count() > 1

    def delete_model(self, request: HttpRequest, obj: WorkingHours) -> None:
        working_period_delete(period_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WorkingHours]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            try:
                working_period_delete(period_id=pk)
            except CalendarError as exc:
                self.message_user(request, str(exc), level=messages.ERROR)
                return
