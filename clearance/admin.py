from django.contrib import admin

from cases.admin import ReadOnlyAdmin

from .models import ClearanceStatement


@admin.register(ClearanceStatement)
class ClearanceStatementAdmin(ReadOnlyAdmin):
    list_display = ["number", "case", "status", "issued_at"]
    list_filter = ["status"]
    exclude = ["verification_code"]
