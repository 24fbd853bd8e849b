from django.contrib import admin

from clearance.models import ClearanceStatement, StatementStatusChange
from core.admin import ReadOnlyAdmin


@admin.register(ClearanceStatement)
class ClearanceStatementAdmin(ReadOnlyAdmin):
    list_display = ["number", "company_name", "model_name", "version_label", "status", "issued_at"]
    list_filter = ["status"]
    list_select_related = ["case"]
    search_fields = ["number", "company_name", "model_name"]
    # The code is a bearer link to the public page; the PDF carries it already.
    exclude = ["verification_code"]


@admin.register(StatementStatusChange)
class StatementStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["statement", "change", "actor", "at"]
    list_select_related = ["statement", "actor"]
