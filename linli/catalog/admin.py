from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from linli.catalog.models import ServiceItem
from linli.catalog.services import CatalogError, service_item_save, service_item_validate


class ServiceItemForm(forms.ModelForm):
    class Meta:
        model = ServiceItem
        exclude = ["name_pinyin", "name_initials"]  # noqa: DJ006 - every guide field is edited here

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:  # field errors are shown first; the cross-field rules need every field
            return cleaned
        try:
            service_item_validate(ServiceItem(**cleaned))
        except CatalogError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        return cleaned


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    form = ServiceItemForm
    list_display = [
        "code",
        "name",
        "category",
        "promised_days",
        "universal",
        "online",
        "agency_allowed",
        "is_active",
    ]
    list_filter = [
        "category",
        "universal",
        "online",
        "agency_allowed",
        "appointment_required",
        "basic",
        "is_active",
    ]
    search_fields = ["code", "name", "keywords", "name_initials"]
    ordering = ["sort_order", "code"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        service_item_save(item=obj)  # recomputes the pinyin search keys
