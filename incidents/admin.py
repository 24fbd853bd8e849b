from django.contrib import admin

from core.admin import ReadOnlyAdmin
from incidents.models import Incident, IncidentNote, MaterialChange, MonitoringReport


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["case", "number", "severity", "triage_state", "detected_at", "reported_at"]
    list_filter = ["severity", "triage_state"]
    list_select_related = ["case"]
    search_fields = ["case__number"]


@admin.register(IncidentNote)
class IncidentNoteAdmin(ReadOnlyAdmin):
    list_display = ["incident", "kind", "author", "internal", "created_at"]
    list_filter = ["kind", "internal"]
    list_select_related = ["incident__case", "author"]


@admin.register(MonitoringReport)
class MonitoringReportAdmin(ReadOnlyAdmin):
    list_display = ["case", "statement_number", "sequence", "due_at", "state", "submitted_at"]
    list_filter = ["state"]
    list_select_related = ["case"]


@admin.register(MaterialChange)
class MaterialChangeAdmin(ReadOnlyAdmin):
    list_display = ["case", "declared_by", "declared_at", "decision"]
    list_filter = ["decision"]
    list_select_related = ["case", "declared_by"]
