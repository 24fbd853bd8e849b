from django.contrib import admin

from core.admin import ReadOnlyAdmin
from webhooks.models import Webhook, WebhookChange, WebhookDelivery


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    list_display = ["url", "owner", "active", "created_at"]
    list_select_related = ["owner"]
    exclude = ["secret_encrypted"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event_uid", "webhook", "status", "attempts", "response_code", "created_at"]
    list_select_related = ["webhook"]


@admin.register(WebhookChange)
class WebhookChangeAdmin(ReadOnlyAdmin):
    list_display = ["url", "owner", "kind", "at"]
    list_select_related = ["owner"]
