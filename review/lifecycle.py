"""The case lifecycle as one table: statuses, actions, who may act, gates.

Each row reads: from these statuses, this action, by these roles, leads to
this status, provided the gate returns no blockers, with these parameters.
The statuses themselves are `cases.status`. `review/services.py` runs the
table; `review/policy.py` answers "may this user take this action now";
`review/gates.py` holds the gates; the action form and the API's action body
are built from the parameters.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

from accounts.models import Role
from cases.status import OPEN_STATUSES, Status
from review import gates


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


class ParamKind(models.TextChoices):
    TEXT = "text", "Text"
    CASE_MANAGER = "case_manager", "A case manager"
    MODEL_VERSION = "model_version", "A model version of the case"


@dataclass(frozen=True)
class Param:
    """One thing the actor supplies with an action: a field on the page, a key in the API."""

    name: str
    kind: ParamKind
    required: bool
    help_text: str = ""


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[Status]
    target: Status
    actors: frozenset[Role]
    gate: Gate
    # What the actor supplies with the action; the action form, the API's body and
    # the service's check all read this, and a required one missing is refused.
    parameters: tuple[Param, ...] = ()

    @property
    def params(self) -> tuple[str, ...]:
        """The names of the required parameters."""
        return tuple(p.name for p in self.parameters if p.required)

    @property
    def accepts(self) -> frozenset[str]:
        """The names of every parameter the action takes."""
        return frozenset(p.name for p in self.parameters)


def _t(action, sources, target, actors, gate, parameters=()):
    return Transition(
        action, frozenset(sources), target, frozenset(actors), gate, tuple(parameters)
    )


MANAGER = Param(
    "manager",
    ParamKind.CASE_MANAGER,
    required=True,
    help_text="The case manager; people with a declared conflict are refused.",
)
SCOPE = Param(
    "scope",
    ParamKind.TEXT,
    required=True,
    help_text="What the clearance covers: the model version and its deployment.",
)
VERSION = Param(
    "version",
    ParamKind.MODEL_VERSION,
    required=True,
    help_text="The version cleared: only one CAISI reached and evaluated (its label in the API).",
)
CONDITIONS = Param("conditions", ParamKind.TEXT, required=False, help_text="Conditions, if any.")
REASON = Param("reason", ParamKind.TEXT, required=True, help_text="The reason, for the record.")
OPTIONAL_REASON = Param(
    "reason", ParamKind.TEXT, required=False, help_text="The reason, if you wish to give one."
)


TABLE: tuple[Transition, ...] = (
    _t(
        Action.SUBMIT_INTAKE,
        {Status.INTAKE},
        Status.TRIAGE,
        {Role.LIAISON},
        gates.intake_complete,
    ),
    _t(
        Action.ASSIGN_CASE_MANAGER,
        {Status.TRIAGE},
        Status.ACCESS,
        {Role.CASE_MANAGER},
        gates.case_manager_without_conflict,
        [MANAGER],
    ),
    _t(
        Action.VERIFY_ACCESS,
        {Status.ACCESS},
        Status.DOCUMENTATION,
        {Role.CASE_MANAGER},
        gates.access_granted,
    ),
    _t(
        Action.ACCEPT_DOCUMENTATION,
        {Status.DOCUMENTATION},
        Status.TESTING,
        {Role.CASE_MANAGER},
        gates.documentation_accepted,
    ),
    _t(
        Action.SHARE_FINDINGS,
        {Status.TESTING},
        Status.FINDINGS,
        {Role.CASE_MANAGER},
        gates.testing_complete,
    ),
    # A revised version goes back to testing; from "cleared" the statement stays
    # valid until the revised version's statement supersedes it.
    _t(
        Action.RESUBMIT,
        {Status.FINDINGS, Status.CLEARED},
        Status.TESTING,
        {Role.LIAISON},
        gates.revised_version_ready,
    ),
    _t(
        Action.ISSUE_CLEARANCE,
        {Status.FINDINGS},
        Status.CLEARED,
        {Role.CLEARANCE_OFFICIAL},
        gates.findings_addressed,
        [VERSION, SCOPE, CONDITIONS],
    ),
    _t(
        Action.REVOKE_CLEARANCE,
        {Status.CLEARED},
        Status.REVOKED,
        {Role.CLEARANCE_OFFICIAL},
        gates.always,
        [REASON],
    ),
    _t(
        Action.WITHDRAW,
        OPEN_STATUSES,
        Status.WITHDRAWN,
        {Role.LIAISON},
        gates.always,
        [OPTIONAL_REASON],
    ),
    _t(
        Action.CLOSE_CASE,
        OPEN_STATUSES,
        Status.CLOSED,
        {Role.CASE_MANAGER},
        gates.always,
        [REASON],
    ),
)

TRANSITIONS: dict[str, Transition] = {t.action.value: t for t in TABLE}


def actions_from(status: str) -> list[Transition]:
    """Return the transitions that start from this status, in table order."""
    return [t for t in TABLE if status in t.sources]


def parameters_by_name() -> dict[str, tuple[Param, list[Action]]]:
    """Return each parameter any action takes, with the actions that take it (table order)."""
    found: dict[str, tuple[Param, list[Action]]] = {}
    for transition in TABLE:
        for param in transition.parameters:
            found.setdefault(param.name, (param, []))[1].append(transition.action)
    return found
