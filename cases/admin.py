from django.contrib import admin

from cases.models import (
    Case,
    CaseCount,
    CaseEvent,
    CaseNumberCounter,
    CheckpointHead,
    ClockPause,
    Message,
    TimelineCheckpoint,
)
from core.admin import ReadOnlyAdmin


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


# The signed checkpoints of the timelines' heads (written by the periodic task only).
@admin.register(TimelineCheckpoint)
class TimelineCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["seq", "signed_at", "root", "certificate_sha256"]


@admin.register(CheckpointHead)
class CheckpointHeadAdmin(ReadOnlyAdmin):
    list_display = ["checkpoint", "case_number", "seq", "hash"]
    list_select_related = ["checkpoint"]


@admin.register(CaseCount)
class CaseCountAdmin(ReadOnlyAdmin):
    """The figures the dashboard reads, kept by the database's triggers: read only."""

    list_display = ("organization", "status", "submitted", "count")
    list_filter = ("status", "submitted")
