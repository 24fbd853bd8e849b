"""Who sees which case, and who may see CAISI's internal material: one role table.

Seeing is `Case.objects.visible_to(user)` for querysets and `can_view` for a
case already loaded; both read `CASE_SCOPE` and the two rules every staff
scope is narrowed by: a case is CAISI's only once the company has submitted
it (`SEES_DRAFTS`), and nobody sees the cases of a company they have an
active conflict of interest with (`conflicted_organizations`). Internal
notes, draft findings and internal events are for the roles in
`SEES_INTERNAL` alone.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import ConflictOfInterest, Role
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

# An intake draft is the company's alone: only the company's own scope reaches it.
SEES_DRAFTS = frozenset({Scope.ORGANIZATION})

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


def conflicted_organizations(user):
    """Return the ids of the companies this person has a conflict with today (a subquery)."""
    return ConflictOfInterest.objects.active().filter(user=user).values("organization_id")


def _conflicted_organization_ids(user) -> frozenset[int]:
    # Read once per person and day: a page asks `can_view` for many of its parts.
    # The conflict services forget it on the objects they were handed.
    today = timezone.localdate()
    known = user.__dict__.get("_conflicted_organizations")
    if known is None or known[0] != today:
        ids = frozenset(conflicted_organizations(user).values_list("organization_id", flat=True))
        known = user.__dict__["_conflicted_organizations"] = (today, ids)
    return known[1]


def forget_conflicts(*users) -> None:
    """Drop what `can_view` remembered of these people's conflicts (they just changed)."""
    for user in users:
        if user is not None:
            user.__dict__.pop("_conflicted_organizations", None)


def mark_read_through_visible_to(case, user) -> None:
    """Note that this case was just read through `visible_to(user)`: it is visible to them.

    The pages of one case ask `can_view` for each of their parts; the query that
    loaded the case has answered it already, with the same rules.
    """
    case.__dict__["_visible_to"] = user.pk


def can_view(user, case) -> bool:
    """Whether this user may see this loaded case (the twin of `visible_to`)."""
    scope = scope_of(user)
    if scope is None:
        return False
    if case.__dict__.get("_visible_to") == user.pk:
        return True
    if scope == Scope.ORGANIZATION:
        return user.membership.organization_id == case.organization_id
    if scope not in SEES_DRAFTS and case.submitted_at is None:
        return False
    if case.organization_id in _conflicted_organization_ids(user):
        return False
    if scope == Scope.ASSIGNED:
        return case.evaluators.filter(pk=user.pk).exists()
    return scope == Scope.ALL


def can_see_internal(user) -> bool:
    """Whether internal notes, draft findings and internal events may be shown to this user."""
    return _acting(user) and user.role in SEES_INTERNAL


def during_draft(event, case) -> bool:
    """Whether this event of the case happened while it was still the company's draft.

    CAISI hears of nothing that happened before the submission, however late
    its notice or webhook is sent.
    """
    return case.submitted_at is None or event.created_at < case.submitted_at


EVALUATOR_AS_SHOWN_TO_COMPANIES = "CAISI evaluator"


def name_shown(person, viewer) -> str:
    """Return how a person is named to this viewer.

    A company sees "CAISI evaluator", never the evaluator's name, unless
    `SHOW_STAFF_NAMES_TO_COMPANIES` says otherwise; CAISI sees names.
    """
    if person is None:
        return ""
    if (
        getattr(person, "staff_role", "") == Role.EVALUATOR
        and not can_see_internal(viewer)
        and not settings.SHOW_STAFF_NAMES_TO_COMPANIES
    ):
        return EVALUATOR_AS_SHOWN_TO_COMPANIES
    return str(person)


def name_in_record(person, internal: bool) -> str | None:
    """Return how an exported record names a person: CAISI's record names everyone,
    the company's record as its pages do (an evaluator is "CAISI evaluator")."""
    if person is None:
        return None
    return str(person) if internal else name_shown(person, None)


def changed_at_field(user) -> str:
    """Name the field that says when this user's view of a case last changed.

    A company's view moves only with what it is shown; CAISI sees every event.
    """
    return "updated_at" if can_see_internal(user) else "company_updated_at"


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
