"""Who may see and do what: one place to read and test.

Seeing is `Case.objects.visible_to(user)` (and `can_view` below, its
in-memory twin for an already loaded case). Acting is `can_take(user, case,
action)`: the right role, the right status, and a case the user may see.
Gates are separate: they say what the case still lacks, not who may act.
"""

from accounts.models import Role

from .lifecycle import OPEN_STATUSES, TRANSITIONS, Action, Status
from .models import Case

STAFF_WHO_SEE_ALL = (Role.CASE_MANAGER, Role.CLEARANCE_OFFICIAL, Role.AUDITOR)


def can_view(user, case: Case) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    role = user.role
    if role in STAFF_WHO_SEE_ALL:
        return True
    if role == Role.EVALUATOR:
        return case.evaluators.filter(pk=user.pk).exists()
    if role == Role.LIAISON:
        return user.membership.organization_id == case.organization_id
    return False


def can_take(user, case: Case, action: str) -> bool:
    transition = TRANSITIONS.get(action)
    if transition is None or not user.is_authenticated:
        return False
    return (
        user.role in transition.actors
        and case.status in transition.sources
        and can_view(user, case)
    )


def can_create_case(user) -> bool:
    return user.is_authenticated and user.is_active and user.role == Role.LIAISON


def can_edit_intake(user, case: Case) -> bool:
    return (
        user.is_authenticated
        and user.role == Role.LIAISON
        and case.status == Status.INTAKE
        and can_view(user, case)
    )


def can_contribute(user, case: Case) -> bool:
    """Whether the company may still add material (documents, access, versions)."""
    return user.role == Role.LIAISON and case.status in OPEN_STATUSES and can_view(user, case)


def can_see_internal(user) -> bool:
    """Whether internal notes, drafts and internal events may be shown to this user."""
    return user.is_authenticated and user.role in (
        Role.CASE_MANAGER,
        Role.EVALUATOR,
        Role.CLEARANCE_OFFICIAL,
        Role.AUDITOR,
    )


def can_submit_intake(user, case: Case) -> bool:
    return can_take(user, case, Action.SUBMIT_INTAKE)


def can_assign_case_manager(user, case: Case) -> bool:
    return can_take(user, case, Action.ASSIGN_CASE_MANAGER)


def can_verify_access(user, case: Case) -> bool:
    return can_take(user, case, Action.VERIFY_ACCESS)


def can_accept_documentation(user, case: Case) -> bool:
    return can_take(user, case, Action.ACCEPT_DOCUMENTATION)


def can_share_findings(user, case: Case) -> bool:
    return can_take(user, case, Action.SHARE_FINDINGS)


def can_resubmit(user, case: Case) -> bool:
    return can_take(user, case, Action.RESUBMIT)


def can_issue_clearance(user, case: Case) -> bool:
    return can_take(user, case, Action.ISSUE_CLEARANCE)


def can_revoke_clearance(user, case: Case) -> bool:
    return can_take(user, case, Action.REVOKE_CLEARANCE)


def can_withdraw(user, case: Case) -> bool:
    return can_take(user, case, Action.WITHDRAW)


def can_close_case(user, case: Case) -> bool:
    return can_take(user, case, Action.CLOSE_CASE)
