"""The case lifecycle as one table: statuses, actions, who may act, gates.

Each row reads: from these statuses, this action, by these roles, leads to
this status, provided the gate returns no blockers, with these parameters.
After clearance the rows move the model's deployment status instead (or, for
the statement's own actions, neither: the gate reads the statement), and read:
from these statuses and these deployment statuses, this action, by these
roles, leads to this deployment status. The statuses themselves are
`cases.status`. `review/services.py` runs the table; `review/policy.py`
answers "may this user take this action now"; `review/gates.py` holds the
gates; the action form and the API's action body are built from the parameters.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

from accounts.models import Role
from cases.status import OPEN_STATUSES, DeploymentStatus, Status
from clearance.models import Condition, Scope
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
    # After clearance: the model in service, its statement, and changes to it.
    REPORT_RELEASE = "report_release", "Report the release"
    RESTRICT_DEPLOYMENT = "restrict_deployment", "Restrict the deployment"
    SUSPEND_DEPLOYMENT = "suspend_deployment", "Suspend the deployment"
    RETIRE_DEPLOYMENT = "retire_deployment", "Retire the model"
    SUSPEND_CLEARANCE = "suspend_clearance", "Suspend the clearance"
    REINSTATE_CLEARANCE = "reinstate_clearance", "Reinstate the clearance"
    DECLARE_MATERIAL_CHANGE = "declare_material_change", "Declare a material change"
    ACCEPT_MATERIAL_CHANGE = "accept_material_change", "Decide: no new review needed"
    REQUIRE_RESUBMISSION = "require_resubmission", "Decide: a revised version must be resubmitted"


Gate = Callable[..., list[str]]


class ParamKind(models.TextChoices):
    TEXT = "text", "Text"
    CASE_MANAGER = "case_manager", "A case manager"
    DATE = "date", "A date"
    DAYS = "days", "A number of days"
    INCIDENT = "incident", "One of the case's incidents, by its number"
    MODEL_VERSION = "model_version", "A model version of the case"
    CHOICES = "choices", "Any of a list of choices"


@dataclass(frozen=True)
class Param:
    """One thing the actor supplies with an action: a field on the page, a key in the API."""

    name: str
    kind: ParamKind
    required: bool
    help_text: str = ""
    label: str = ""
    # For ParamKind.CHOICES: the TextChoices offered.
    choices: type[models.TextChoices] | None = None


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[Status]
    # None: the case's status stays (an action after clearance).
    target: Status | None
    actors: frozenset[Role]
    gate: Gate
    # What the actor supplies with the action; the action form, the API's body and
    # the service's check all read this, and a required one missing is refused.
    parameters: tuple[Param, ...] = ()
    # After clearance: the deployment statuses it starts from (None: any) and
    # the one it leads to (None: the deployment status stays).
    deployment_sources: frozenset[DeploymentStatus] | None = None
    deployment_target: DeploymentStatus | None = None

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


def _d(action, sources, deployment_sources, deployment_target, actors, gate, parameters=()):
    """A row after clearance: the case's status stays, the deployment's may move."""
    return Transition(
        action,
        frozenset(sources),
        None,
        frozenset(actors),
        gate,
        tuple(parameters),
        None if deployment_sources is None else frozenset(deployment_sources),
        deployment_target,
    )


MANAGER = Param(
    "manager",
    ParamKind.CASE_MANAGER,
    required=True,
    help_text="The case manager; people with a declared conflict are refused.",
)
SCOPE_ITEMS = Param(
    "scope_items",
    ParamKind.CHOICES,
    required=False,
    label="Scope",
    help_text="How the company may offer the cleared version; choose every one that applies.",
    choices=Scope,
)
SCOPE = Param(
    "scope",
    ParamKind.TEXT,
    required=False,
    label="More about the scope",
    help_text="Anything the scope needs beyond the choices above, printed after them.",
)
CONDITION_ITEMS = Param(
    "condition_items",
    ParamKind.CHOICES,
    required=False,
    label="Conditions",
    help_text="What the company undertakes while the statement stands.",
    choices=Condition,
)
VERSION = Param(
    "version",
    ParamKind.MODEL_VERSION,
    required=True,
    help_text="The version cleared: only one CAISI reached and evaluated (its label in the API).",
)
CONDITIONS = Param(
    "conditions",
    ParamKind.TEXT,
    required=False,
    label="Other conditions",
    help_text="Any other condition, one a line.",
)
REASON = Param("reason", ParamKind.TEXT, required=True, help_text="The reason, for the record.")
OPTIONAL_REASON = Param(
    "reason", ParamKind.TEXT, required=False, help_text="The reason, if you wish to give one."
)
VALID_UNTIL = Param(
    "valid_until",
    ParamKind.DATE,
    required=False,
    help_text="The last day the statement is valid, if it has a validity period.",
)
MONITORING_EVERY = Param(
    "monitoring_every_days",
    ParamKind.DAYS,
    required=False,
    help_text="A monitoring report is due every this many days (for example 90), if asked.",
)
MONITORING_FOR = Param(
    "monitoring_for_days",
    ParamKind.DAYS,
    required=False,
    help_text="For how many days after clearance monitoring reports are due (default 365).",
)
RELEASE_DATE = Param(
    "release_date", ParamKind.DATE, required=True, help_text="The day the model was released."
)
CHANNEL = Param(
    "channel",
    ParamKind.TEXT,
    required=True,
    help_text="Where it is offered: for example the public API, a hosted product, open weights.",
)
RELEASE_NOTES = Param(
    "notes", ParamKind.TEXT, required=False, help_text="The company's release notes, if any."
)
REMAINING_USES = Param(
    "uses", ParamKind.TEXT, required=True, help_text="Which uses remain allowed."
)
EXPECTED_END = Param(
    "expected_end",
    ParamKind.DATE,
    required=False,
    help_text="When the suspension is expected to end, if known.",
)
RETIRED_ON = Param(
    "retired_on",
    ParamKind.DATE,
    required=False,
    help_text="The day the model was taken out of service (today if left empty).",
)
INCIDENT = Param(
    "incident",
    ParamKind.INCIDENT,
    required=False,
    help_text="The number of the incident this answers, if any.",
)
CHANGE = Param(
    "change",
    ParamKind.TEXT,
    required=True,
    help_text="What changed since release: new capabilities, a new modality, a new "
    "deployment surface, changed safeguards.",
)

# The model in service, for the actions that follow release.
IN_SERVICE = (DeploymentStatus.RELEASED, DeploymentStatus.RESTRICTED, DeploymentStatus.SUSPENDED)
# Who records a change of the deployment: the company, or CAISI's case manager
# (who may have learned of it first).
DEPLOYERS = {Role.LIAISON, Role.CASE_MANAGER}
DECIDERS = {Role.CASE_MANAGER, Role.CLEARANCE_OFFICIAL}


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
        [
            VERSION,
            SCOPE_ITEMS,
            SCOPE,
            CONDITION_ITEMS,
            CONDITIONS,
            VALID_UNTIL,
            MONITORING_EVERY,
            MONITORING_FOR,
        ],
    ),
    _t(
        Action.REVOKE_CLEARANCE,
        {Status.CLEARED},
        Status.REVOKED,
        {Role.CLEARANCE_OFFICIAL},
        gates.always,
        [REASON, INCIDENT],
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
        # A draft is the company's alone (cases.access): CAISI closes what it was sent.
        OPEN_STATUSES - {Status.INTAKE},
        Status.CLOSED,
        {Role.CASE_MANAGER},
        gates.always,
        [REASON],
    ),
    # After clearance. Released again after a restriction or suspension is the
    # same report: the model is back in full use.
    _d(
        Action.REPORT_RELEASE,
        {Status.CLEARED},
        {DeploymentStatus.NOT_RELEASED, DeploymentStatus.RESTRICTED, DeploymentStatus.SUSPENDED},
        DeploymentStatus.RELEASED,
        {Role.LIAISON},
        gates.always,
        [RELEASE_DATE, CHANNEL, RELEASE_NOTES],
    ),
    _d(
        Action.RESTRICT_DEPLOYMENT,
        {Status.CLEARED},
        IN_SERVICE,
        DeploymentStatus.RESTRICTED,
        DEPLOYERS,
        gates.always,
        [REMAINING_USES, REASON, INCIDENT],
    ),
    _d(
        Action.SUSPEND_DEPLOYMENT,
        {Status.CLEARED},
        {DeploymentStatus.RELEASED, DeploymentStatus.RESTRICTED},
        DeploymentStatus.SUSPENDED,
        DEPLOYERS,
        gates.always,
        [REASON, EXPECTED_END, INCIDENT],
    ),
    # A revoked clearance's model is taken out of service too.
    _d(
        Action.RETIRE_DEPLOYMENT,
        {Status.CLEARED, Status.REVOKED},
        IN_SERVICE,
        DeploymentStatus.RETIRED,
        DEPLOYERS,
        gates.always,
        [REASON, RETIRED_ON, INCIDENT],
    ),
    _d(
        Action.SUSPEND_CLEARANCE,
        {Status.CLEARED},
        None,
        None,
        {Role.CLEARANCE_OFFICIAL},
        gates.statement_in_force,
        [REASON, INCIDENT],
    ),
    _d(
        Action.REINSTATE_CLEARANCE,
        {Status.CLEARED},
        None,
        None,
        {Role.CLEARANCE_OFFICIAL},
        gates.statement_suspended,
        [REASON],
    ),
    _d(
        Action.DECLARE_MATERIAL_CHANGE,
        {Status.CLEARED},
        IN_SERVICE,
        None,
        {Role.LIAISON},
        gates.no_material_change_pending,
        [CHANGE],
    ),
    _d(
        Action.ACCEPT_MATERIAL_CHANGE,
        {Status.CLEARED},
        None,
        None,
        DECIDERS,
        gates.material_change_pending,
        [REASON],
    ),
    # The company then adds the revised version and resubmits (back to testing);
    # its statement supersedes the old one when issued.
    _d(
        Action.REQUIRE_RESUBMISSION,
        {Status.CLEARED},
        None,
        None,
        DECIDERS,
        gates.material_change_pending,
        [REASON, INCIDENT],
    ),
)

TRANSITIONS: dict[str, Transition] = {t.action.value: t for t in TABLE}


def starts_from(transition: Transition, case) -> bool:
    """Whether the case's status (and deployment status) is one this transition starts from."""
    return case.status in transition.sources and (
        transition.deployment_sources is None
        or case.deployment_status in transition.deployment_sources
    )


def actions_from(case) -> list[Transition]:
    """Return the transitions that start where the case stands, in table order."""
    return [t for t in TABLE if starts_from(t, case)]


def parameters_by_name() -> dict[str, tuple[Param, list[Action]]]:
    """Return each parameter any action takes, with the actions that take it (table order)."""
    found: dict[str, tuple[Param, list[Action]]] = {}
    for transition in TABLE:
        for param in transition.parameters:
            found.setdefault(param.name, (param, []))[1].append(transition.action)
    return found
