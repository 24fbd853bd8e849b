"""The case lifecycle as one table: statuses, actions, who may act, gates.

Each row reads: from these statuses, this action, by these roles, leads to
this status, provided the gate returns no blockers. The services in
`cases/services.py` run the table; `cases/policy.py` answers "may this user
take this action now"; `cases/gates.py` holds the gates.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

from accounts.models import Role


class Status(models.TextChoices):
    INTAKE = "intake", "Intake"
    TRIAGE = "triage", "Triage"
    ACCESS = "access", "Model access"
    DOCUMENTATION = "documentation", "Documentation"
    TESTING = "testing", "Testing"
    FINDINGS = "findings", "Findings"
    CLEARED = "cleared", "Cleared"
    REVOKED = "revoked", "Clearance revoked"
    WITHDRAWN = "withdrawn", "Withdrawn"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = frozenset(
    {
        Status.INTAKE,
        Status.TRIAGE,
        Status.ACCESS,
        Status.DOCUMENTATION,
        Status.TESTING,
        Status.FINDINGS,
    }
)

# The seven steps of the review guide, and the status in which each is worked.
STEPS = (
    (1, "Prepare the model", Status.INTAKE),
    (2, "Establish communication", Status.TRIAGE),
    (3, "Share model access", Status.ACCESS),
    (4, "Submit documentation", Status.DOCUMENTATION),
    (5, "Testing", Status.TESTING),
    (6, "Address findings", Status.FINDINGS),
    (7, "Clearance", Status.CLEARED),
)
STEP_OF_STATUS = {status: number for number, _, status in STEPS} | {Status.REVOKED: 7}


class Action(models.TextChoices):
    SUBMIT_INTAKE = "submit_intake", "Submit intake"
    ASSIGN_CASE_MANAGER = "assign_case_manager", "Assign case manager"
    VERIFY_ACCESS = "verify_access", "Verify model access"
    ACCEPT_DOCUMENTATION = "accept_documentation", "Accept documentation"
    SHARE_FINDINGS = "share_findings", "Share findings"
    RESUBMIT = "resubmit", "Resubmit a revised version"
    ISSUE_CLEARANCE = "issue_clearance", "Issue clearance"
    REVOKE_CLEARANCE = "revoke_clearance", "Revoke clearance"
    WITHDRAW = "withdraw", "Withdraw the case"
    CLOSE_CASE = "close_case", "Close the case"


Gate = Callable[..., list[str]]


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[Status]
    target: Status
    actors: frozenset[Role]
    gate: str  # name of a function in cases.gates
    # What the actor supplies with the action (a form on the page, a body in the
    # API); the service refuses the action when one is missing.
    params: tuple[str, ...] = ()

    def gate_function(self) -> Gate:
        from cases import gates

        return getattr(gates, self.gate)


def _t(action, sources, target, actors, gate, params=()):
    return Transition(action, frozenset(sources), target, frozenset(actors), gate, tuple(params))


TABLE: tuple[Transition, ...] = (
    _t(Action.SUBMIT_INTAKE, {Status.INTAKE}, Status.TRIAGE, {Role.LIAISON}, "intake_complete"),
    _t(
        Action.ASSIGN_CASE_MANAGER,
        {Status.TRIAGE},
        Status.ACCESS,
        {Role.CASE_MANAGER},
        "case_manager_without_conflict",
        ["manager"],
    ),
    _t(
        Action.VERIFY_ACCESS,
        {Status.ACCESS},
        Status.DOCUMENTATION,
        {Role.CASE_MANAGER},
        "access_granted",
    ),
    _t(
        Action.ACCEPT_DOCUMENTATION,
        {Status.DOCUMENTATION},
        Status.TESTING,
        {Role.CASE_MANAGER},
        "documentation_accepted",
    ),
    _t(
        Action.SHARE_FINDINGS,
        {Status.TESTING},
        Status.FINDINGS,
        {Role.CASE_MANAGER},
        "testing_complete",
    ),
    # A revised version goes back to testing; from "cleared" the statement stays
    # valid until the revised version's statement supersedes it.
    _t(
        Action.RESUBMIT,
        {Status.FINDINGS, Status.CLEARED},
        Status.TESTING,
        {Role.LIAISON},
        "revised_version_ready",
    ),
    _t(
        Action.ISSUE_CLEARANCE,
        {Status.FINDINGS},
        Status.CLEARED,
        {Role.CLEARANCE_OFFICIAL},
        "findings_addressed",
        ["scope"],
    ),
    _t(
        Action.REVOKE_CLEARANCE,
        {Status.CLEARED},
        Status.REVOKED,
        {Role.CLEARANCE_OFFICIAL},
        "always",
        ["reason"],
    ),
    _t(Action.WITHDRAW, OPEN_STATUSES, Status.WITHDRAWN, {Role.LIAISON}, "always"),
    _t(Action.CLOSE_CASE, OPEN_STATUSES, Status.CLOSED, {Role.CASE_MANAGER}, "always", ["reason"]),
)

TRANSITIONS: dict[str, Transition] = {t.action.value: t for t in TABLE}


def actions_from(status: str) -> list[Transition]:
    """Return the transitions that start from this status, in table order."""
    return [t for t in TABLE if status in t.sources]
