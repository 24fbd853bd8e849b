from django.contrib import admin

from core.admin import ReadOnlyAdmin
from deadlines.models import Deadline, ReminderSent


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "subject", "due_at", "next_reminder_at", "satisfied_at"]
    list_filter = ["kind"]
    list_select_related = ["case"]


@admin.register(ReminderSent)
class ReminderSentAdmin(ReadOnlyAdmin):
    list_display = ["deadline", "offset_days", "created_at"]
    list_select_related = ["deadline__case"]
