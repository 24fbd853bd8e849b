"""Who may take what a clearance statement holds.

Issuing, suspending, reinstating and revoking a statement are lifecycle
actions (review.policy reads the table); the public verification page shows
anyone the statement's status and nothing confidential. What remains here is
the signed PDF itself: for whoever may see the case, once it exists.
"""

from cases.access import can_view


def can_download_statement(user, statement) -> bool:
    return bool(statement.pdf) and can_view(user, statement.case)
