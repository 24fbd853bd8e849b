"""Who may take which lifecycle action now: the right role, the right status, a visible case.

Gates are separate (`review.gates`): they say what the case still lacks, not
who may act.
"""

from cases.access import can_see_internal, can_view
from review.lifecycle import TRANSITIONS, starts_from


def can_take(user, case, action: str) -> bool:
    transition = TRANSITIONS.get(action)
    if transition is None or not user.is_authenticated:
        return False
    return user.role in transition.actors and starts_from(transition, case) and can_view(user, case)


def can_export_record(user, case) -> bool:
    """Whether this person may download the case's record (what they see of it)."""
    return user.is_authenticated and can_view(user, case)


def can_export_record_by_api(user, case) -> bool:
    """Whether a token may download the record: CAISI staff's, the whole record."""
    return can_export_record(user, case) and can_see_internal(user)
