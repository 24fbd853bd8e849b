from django.contrib import admin

from core.admin import ReadOnlyAdmin
from notifications.models import DigestRun, Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "event", "created_at", "read_at"]
    list_select_related = ["user", "event"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "delivery"]
    list_filter = ["kind", "delivery"]


@admin.register(DigestRun)
class DigestRunAdmin(ReadOnlyAdmin):
    list_display = ["user", "day", "sent_at", "notification_count"]
