from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from linli.notifications.models import Notification, OutboxMessage
from linli.notifications.outbox import outbox_message_requeue


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ["title", "recipient", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["title", "dedup_key"]
    raw_id_fields = ["recipient"]
    readonly_fields = ["recipient", "kind", "title", "body", "link", "dedup_key", "read_at", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin[OutboxMessage]):
    # The full phone number is not shown: phone_display is the masked form (PI-2).
    list_display = [
        "id",
        "channel",
        "kind",
        "phone_display",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["dedup_key", "provider_message_id"]
    exclude = ["phone"]
    readonly_fields = [
        "channel",
        "kind",
        "recipient",
        "phone_display",
        "text",
        "dedup_key",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "last_error",
        "sent_at",
        "provider_message_id",
        "task_id",
        "created_at",
        "updated_at",
    ]
    actions = ["requeue"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("重新发送(失败或已放弃的消息)"))
    def requeue(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = sum(outbox_message_requeue(message_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, _("已重新排队 %(n)d 条消息") % {"n": count}, messages.SUCCESS)
