from django.contrib import admin

from .models import (
    Case,
    CaseEvent,
    CaseNumberCounter,
    ClockPause,
    Deadline,
    DigestRun,
    Message,
    Notification,
    NotificationPreference,
    PendingTask,
    ReminderSent,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that only services write: viewable, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "organization", "status", "case_manager", "updated_at"]
    list_filter = ["status", "organization"]
    search_fields = ["number", "title", "model_name"]
    list_select_related = ["organization", "case_manager"]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "seq", "verb", "actor", "from_status", "to_status", "created_at"]
    list_filter = ["verb", "internal"]
    search_fields = ["case__number"]
    list_select_related = ["case", "actor"]


@admin.register(CaseNumberCounter)
class CaseNumberCounterAdmin(ReadOnlyAdmin):
    list_display = ["year", "last_value"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "event", "created_at", "read_at"]
    list_select_related = ["user", "event"]


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "subject", "due_at", "next_reminder_at", "satisfied_at"]
    list_filter = ["kind"]
    list_select_related = ["case"]


@admin.register(ReminderSent)
class ReminderSentAdmin(ReadOnlyAdmin):
    list_display = ["deadline", "offset_days", "created_at"]
    list_select_related = ["deadline__case"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "delivery"]
    list_filter = ["kind", "delivery"]


@admin.register(DigestRun)
class DigestRunAdmin(ReadOnlyAdmin):
    list_display = ["user", "day", "sent_at", "notification_count"]


# The case thread and the service-level clock's pauses (written by services only).
@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["case", "author", "internal", "created_at"]
    list_filter = ["internal"]
    search_fields = ["case__number"]
    list_select_related = ["case", "author"]


@admin.register(ClockPause)
class ClockPauseAdmin(ReadOnlyAdmin):
    list_display = ["case", "started_at", "ended_at", "reason"]
    list_select_related = ["case"]


@admin.register(PendingTask)
class PendingTaskAdmin(ReadOnlyAdmin):
    """Background work the broker has not received yet (see cases/outbox.py)."""

    list_display = ["task_name", "args", "created_at", "attempts", "last_error"]
    list_filter = ["task_name"]
