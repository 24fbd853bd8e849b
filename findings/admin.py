from django.contrib import admin

from core.admin import ReadOnlyAdmin
from findings.models import (
    ClarificationRequest,
    EvaluationRun,
    EvaluationSample,
    Finding,
    FindingCount,
    FindingResponse,
    InspectImport,
)


@admin.register(EvaluationRun)
class EvaluationRunAdmin(ReadOnlyAdmin):
    list_display = ["case", "title", "category", "status", "inspect_task", "started_at"]
    list_filter = ["category", "status"]
    search_fields = ["case__number", "title", "inspect_eval_id", "inspect_task"]


@admin.register(ClarificationRequest)
class ClarificationRequestAdmin(ReadOnlyAdmin):
    list_display = ["case", "due_date", "status"]
    list_filter = ["status"]


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ["case", "title", "severity", "category", "state"]
    list_filter = ["severity", "state"]


@admin.register(FindingResponse)
class FindingResponseAdmin(ReadOnlyAdmin):
    list_display = ["finding", "round", "kind", "verdict", "responded_at", "reviewed_at"]
    list_filter = ["kind", "verdict"]
    list_select_related = ["finding"]


@admin.register(EvaluationSample)
class EvaluationSampleAdmin(ReadOnlyAdmin):
    list_display = ["run", "sample_id", "epoch"]
    list_select_related = ["run"]
    search_fields = ["sample_id"]


@admin.register(InspectImport)
class InspectImportAdmin(ReadOnlyAdmin):
    list_display = ["case", "name", "size", "state", "created_at", "finished_at"]
    list_filter = ["state"]
    list_select_related = ["case"]
    search_fields = ["case__number", "name", "sha256"]


@admin.register(FindingCount)
class FindingCountAdmin(ReadOnlyAdmin):
    """The findings figures the dashboard reads, kept by the database's triggers."""

    list_display = ("organization", "severity", "state", "count")
    list_filter = ("severity", "state")
