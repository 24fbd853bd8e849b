from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import (
    AccessRequest,
    ApiToken,
    ConflictOfInterest,
    ExternalIdentity,
    Invitation,
    Membership,
    Organization,
    OrganizationAuditEntry,
    SignedInSession,
    User,
)
from core.security_log import security_event


def log_membership_change(request, form, *, deleted: bool = False) -> None:
    """Put a membership added, moved or removed in the admin on the security log.

    Which company a person belongs to decides which cases they see; such a
    change must never pass unrecorded.
    """
    membership = form.instance
    if not deleted and not form.has_changed():
        return
    before = form.initial.get("organization")
    security_event(
        "membership_removed_in_admin" if deleted else "membership_changed_in_admin",
        request=request,
        member_id=membership.user_id,
        organization_id=membership.organization_id,
        previous_organization_id=before,
        changed=",".join(form.changed_data),
    )


class ExternalIdentityInline(admin.TabularInline):
    """The provider accounts a person signs in with; linked by (issuer, subject) only."""

    model = ExternalIdentity
    extra = 0
    fields = ["provider", "issuer", "subject", "linked_at", "last_sign_in_at"]
    readonly_fields = ["linked_at", "last_sign_in_at"]


class MembershipInline(admin.StackedInline):
    model = Membership
    fk_name = "user"
    extra = 0
    max_num = 1


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "staff_role", "is_active", "last_login"]
    list_filter = ["staff_role", "is_active", "is_superuser"]
    search_fields = ["email", "full_name"]
    inlines = [MembershipInline, ExternalIdentityInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "staff_role")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:
            removed = formset.deleted_forms if formset.can_delete else []
            for inline_form in formset.forms:
                log_membership_change(request, inline_form, deleted=inline_form in removed)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["organization"]
    autocomplete_fields = ["user", "organization"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        log_membership_change(request, form)

    def delete_model(self, request, obj):
        security_event(
            "membership_removed_in_admin",
            request=request,
            member_id=obj.user_id,
            previous_organization_id=obj.organization_id,
        )
        super().delete_model(request, obj)


@admin.register(ConflictOfInterest)
class ConflictOfInterestAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "valid_from", "valid_until"]
    list_filter = ["organization"]


# Programs and sessions: read-only in the admin. Secrets never appear here: a token
# is kept only as its hash, a webhook's key only encrypted.
class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "read_only", "created_at", "expires_at", "revoked_at"]
    list_select_related = ["user"]
    exclude = ["secret_sha256"]


@admin.register(SignedInSession)
class SignedInSessionAdmin(ReadOnlyAdmin):
    list_display = ["user", "signed_in_at"]
    list_select_related = ["user"]
    exclude = ["session_key"]


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    list_display = ["organization_name", "email", "status", "submitted_at", "decided_by"]
    list_filter = ["status"]
    # Decided on the desk (accounts.organizations), so the decision is checked and recorded.
    readonly_fields = ["status", "decided_at", "decided_by", "organization"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "created_at", "expires_at", "accepted_at"]
    # Invitations are made by the services, which email the link; the hash alone is here.
    readonly_fields = [f.name for f in Invitation._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(OrganizationAuditEntry)
class OrganizationAuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "organization", "actor", "action", "subject"]
    list_filter = ["action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    list_display = ["user", "provider", "issuer", "subject", "last_sign_in_at"]
    list_filter = ["provider"]
    search_fields = ["user__email", "subject"]
    raw_id_fields = ["user"]
