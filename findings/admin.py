from django.contrib import admin

from cases.admin import ReadOnlyAdmin

from .models import ClarificationRequest, EvaluationRun, Finding


@admin.register(EvaluationRun)
class EvaluationRunAdmin(ReadOnlyAdmin):
    list_display = ["case", "title", "category", "status", "started_at"]
    list_filter = ["category", "status"]


@admin.register(ClarificationRequest)
class ClarificationRequestAdmin(ReadOnlyAdmin):
    list_display = ["case", "due_date", "status"]
    list_filter = ["status"]


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ["case", "title", "severity", "category", "state"]
    list_filter = ["severity", "state"]
