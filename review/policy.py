"""Who may take which lifecycle action now: the right role, the right status, a visible case.

Gates are separate (`review.gates`): they say what the case still lacks, not
who may act.
"""

from cases.access import can_view
from review.lifecycle import TRANSITIONS, starts_from


def can_take(user, case, action: str) -> bool:
    transition = TRANSITIONS.get(action)
    if transition is None or not user.is_authenticated:
        return False
    return user.role in transition.actors and starts_from(transition, case) and can_view(user, case)
