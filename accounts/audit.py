"""The organization audit trail: who changed a company's people and service accounts."""

from accounts.models import Organization, OrganizationAuditEntry, User


def record(
    *,
    organization: Organization,
    actor: User | None,
    action: str,
    subject: User | None = None,
    detail: str = "",
) -> OrganizationAuditEntry:
    """Write one entry on the company's audit trail, in the caller's transaction."""
    return OrganizationAuditEntry.objects.create(
        organization=organization, actor=actor, action=action, subject=subject, detail=detail[:500]
    )


def can_read_audit_trail(user, organization: Organization) -> bool:
    """CAISI staff and the company's own administrators read its trail; nobody else."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_caisi_staff:
        return True
    membership = user.membership
    return (
        membership is not None
        and membership.is_administrator
        and membership.organization_id == organization.pk
    )


def trail_of(organization: Organization):
    """Return the company's audit trail, newest first, with the people it names."""
    return OrganizationAuditEntry.objects.filter(organization=organization).select_related(
        "actor", "subject"
    )
