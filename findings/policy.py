"""Who may do what with evaluations, clarification requests and findings.

Every function assumes nothing about the case: it checks visibility itself,
so a view or service may call it with any case it has loaded.
"""

from accounts.models import Role
from cases.access import can_view
from cases.status import OPEN_STATUSES, Status

# Drafting and recording happen while CAISI tests; a revised version brings the
# case back to testing, so later rounds use the same statuses.
TESTING_STATUSES = (Status.TESTING,)
ANSWERING_STATUSES = (Status.TESTING, Status.FINDINGS)


def _is(user, *roles) -> bool:
    return user.is_authenticated and user.is_active and user.role in roles


def can_record_evaluation(user, case) -> bool:
    return (
        _is(user, Role.EVALUATOR, Role.CASE_MANAGER)
        and case.status in TESTING_STATUSES
        and can_view(user, case)
    )


def can_draft_finding(user, case) -> bool:
    return can_record_evaluation(user, case)


def can_respond_to_finding(user, case) -> bool:
    return _is(user, Role.LIAISON) and case.status in ANSWERING_STATUSES and can_view(user, case)


def can_review_response(user, case) -> bool:
    return _is(user, Role.CASE_MANAGER) and case.status in OPEN_STATUSES and can_view(user, case)


def can_ask_clarification(user, case) -> bool:
    return (
        _is(user, Role.CASE_MANAGER, Role.EVALUATOR)
        and case.status in OPEN_STATUSES
        and can_view(user, case)
    )


def can_answer_clarification(user, case) -> bool:
    return _is(user, Role.LIAISON) and case.status in OPEN_STATUSES and can_view(user, case)


def can_close_clarification(user, case) -> bool:
    return _is(user, Role.CASE_MANAGER) and can_view(user, case)
