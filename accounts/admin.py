from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import (
    ApiToken,
    ConflictOfInterest,
    Membership,
    Organization,
    SignedInSession,
    User,
)


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
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "staff_role")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


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
