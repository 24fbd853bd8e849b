"""Who may do what with a case's versions, model access and documents.

Each function checks visibility itself, so a view or service may ask it about
any case it has loaded.
"""

from accounts.models import Role
from cases import access
from cases.models import Case
from cases.status import Status


def can_add_version(user, case: Case) -> bool:
    """Whether the company may record a version now (open, or cleared for a revision)."""
    return (
        user.role == Role.LIAISON
        and (case.is_open or case.status == Status.CLEARED)
        and access.can_view(user, case)
    )


def can_take_model_access(user, case: Case) -> bool:
    """Whether this user may reveal credentials or take the weights.

    The case managers and the case's evaluators only: not the auditor, not the official.
    """
    if not access.can_view(user, case):
        return False
    return user.role in (Role.CASE_MANAGER, Role.EVALUATOR)
