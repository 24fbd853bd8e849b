"""Who sees which case, and who may see CAISI's internal material: one role table.

Seeing is `Case.objects.visible_to(user)` for querysets and `can_view` for a
case already loaded; both read `CASE_SCOPE`. Internal notes, draft findings
and internal events are for the roles in `SEES_INTERNAL` alone.
"""

from django.db import models

from accounts.models import Role
from cases.status import OPEN_STATUSES, Status


class Scope(models.TextChoices):
    ALL = "all", "every case"
    ASSIGNED = "assigned", "the cases the person is assigned to"
    ORGANIZATION = "organization", "the cases of the person's company"


CASE_SCOPE: dict[str, Scope] = {
    Role.CASE_MANAGER: Scope.ALL,
    Role.CLEARANCE_OFFICIAL: Scope.ALL,
    Role.AUDITOR: Scope.ALL,
    Role.EVALUATOR: Scope.ASSIGNED,
    Role.LIAISON: Scope.ORGANIZATION,
}

SEES_INTERNAL = frozenset(
    {Role.CASE_MANAGER, Role.EVALUATOR, Role.CLEARANCE_OFFICIAL, Role.AUDITOR}
)

# Who may write in a case's thread: everyone who sees the case but the auditor.
WRITES_MESSAGES = frozenset(
    {Role.LIAISON, Role.CASE_MANAGER, Role.EVALUATOR, Role.CLEARANCE_OFFICIAL}
)


def _acting(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def scope_of(user) -> Scope | None:
    """Return which cases this user sees, or None for none."""
    return CASE_SCOPE.get(user.role) if _acting(user) else None


def can_view(user, case) -> bool:
    """Whether this user may see this loaded case (the twin of `visible_to`)."""
    scope = scope_of(user)
    if scope == Scope.ALL:
        return True
    if scope == Scope.ASSIGNED:
        return case.evaluators.filter(pk=user.pk).exists()
    if scope == Scope.ORGANIZATION:
        return user.membership.organization_id == case.organization_id
    return False


def can_see_internal(user) -> bool:
    """Whether internal notes, draft findings and internal events may be shown to this user."""
    return _acting(user) and user.role in SEES_INTERNAL


def can_create_case(user) -> bool:
    return _acting(user) and user.role == Role.LIAISON


def can_edit_intake(user, case) -> bool:
    return (
        _acting(user)
        and user.role == Role.LIAISON
        and case.status == Status.INTAKE
        and can_view(user, case)
    )


def can_contribute(user, case) -> bool:
    """Whether the company may still add material (documents, access, versions)."""
    return (
        _acting(user)
        and user.role == Role.LIAISON
        and case.status in OPEN_STATUSES
        and can_view(user, case)
    )


def can_post_message(user, case) -> bool:
    """Whether this user may write in the case's thread (auditors only read)."""
    return (
        _acting(user)
        and user.role in WRITES_MESSAGES
        and case.status in OPEN_STATUSES | {Status.CLEARED}
        and can_view(user, case)
    )


def can_post_internal(user) -> bool:
    """Whether this user may write an internal note: whoever may read them, but the auditor."""
    return can_see_internal(user) and user.role in WRITES_MESSAGES
