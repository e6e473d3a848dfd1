"""Admin for Open311 clients: adding one issues a key, shown once in the confirmation message."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from linli.integrations.models import Open311Client
from linli.integrations.open311.clients import key_new, open311_client_rekey


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "key_prefix", "is_active", "last_used_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    readonly_fields = ["key_prefix", "last_used_at", "created_at"]
    fields = ["name", "note", "unit", "is_active", "key_prefix", "last_used_at", "created_at"]
    autocomplete_fields = ["unit"]
    actions = ["rekey"]

    def save_model(self, request: HttpRequest, obj: Open311Client, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        raw, obj.key_hash, obj.key_prefix = key_new()
        super().save_model(request, obj, form, change)
        messages.warning(request, f"接入密钥(仅显示这一次,请立即交给接入方):{raw}")

    @admin.action(description="重新生成密钥(旧密钥立即失效)")
    def rekey(self, request: HttpRequest, queryset: QuerySet[Open311Client]) -> None:
        for client in queryset:
            raw = open311_client_rekey(client=client)
            messages.warning(request, f"{client.name} 的新密钥(仅显示这一次):{raw}")
