from django.contrib import admin

from core.models import PendingTask


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that only services write: viewable, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PendingTask)
class PendingTaskAdmin(ReadOnlyAdmin):
    """Background work the broker has not received yet (see core/outbox.py)."""

    list_display = ["task_name", "args", "created_at", "attempts", "last_error"]
    list_filter = ["task_name"]
