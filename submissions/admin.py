from django.contrib import admin

from core.admin import ReadOnlyAdmin
from submissions.models import AccessGrant, ChecklistEntry, Document, ModelVersion, WeightsUpload


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["case", "label", "vcs_reference", "packaging", "submitted_at"]
    search_fields = ["case__number", "label", "vcs_reference"]
    list_select_related = ["case"]


@admin.register(AccessGrant)
class AccessGrantAdmin(ReadOnlyAdmin):
    list_display = ["case", "method", "valid_until", "checksum_verified", "revoked_at"]
    list_select_related = ["case"]
    # Credentials are revealed only through the logged reveal on the case page.
    exclude = ["credentials_encrypted"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "version_number", "original_name", "state", "uploaded_at"]
    list_filter = ["kind", "state"]
    search_fields = ["case__number", "original_name", "sha256"]
    list_select_related = ["case"]


@admin.register(ChecklistEntry)
class ChecklistEntryAdmin(ReadOnlyAdmin):
    list_display = ["case", "practice", "status", "updated_at"]
    list_filter = ["status", "practice"]
    list_select_related = ["case"]


@admin.register(WeightsUpload)
class WeightsUploadAdmin(ReadOnlyAdmin):
    list_display = ["grant", "filename", "length", "received", "created_at", "expires_at"]
    list_select_related = ["grant"]
