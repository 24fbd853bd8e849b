from django.contrib import admin

from cases.admin import ReadOnlyAdmin

from .models import AccessGrant, Document, ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["case", "label", "vcs_reference", "submitted_at"]
    search_fields = ["case__number", "label", "vcs_reference"]


@admin.register(AccessGrant)
class AccessGrantAdmin(ReadOnlyAdmin):
    list_display = ["case", "method", "valid_until", "revoked_at"]
    exclude = ["credentials_encrypted"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "version_number", "state", "uploaded_at"]
    list_filter = ["kind", "state"]
