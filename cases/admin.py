from django.contrib import admin

from .models import Case, CaseEvent, CaseNumberCounter, Notification


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
