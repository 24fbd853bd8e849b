"""The statuses a case passes through, and the review step each belongs to."""

from django.db import models


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


class DeploymentStatus(models.TextChoices):
    """Where a cleared model stands in service: the deployment guidance's decommissioning terms."""

    NOT_RELEASED = "not_released", "Not yet released"
    RELEASED = "released", "Released"
    RESTRICTED = "restricted", "Restricted"
    SUSPENDED = "suspended", "Suspended"
    RETIRED = "retired", "Retired"


# Events announced to webhooks besides the case's status changes, with the type
# each is announced as; the timeline and the webhooks both read this one list.
ANNOUNCED_EVENTS: dict[str, str] = {
    "report_release": "deployment.status_changed",
    "restrict_deployment": "deployment.status_changed",
    "suspend_deployment": "deployment.status_changed",
    "retire_deployment": "deployment.status_changed",
    "suspend_clearance": "clearance.status_changed",
    "reinstate_clearance": "clearance.status_changed",
    "incident_reported": "incident.reported",
}


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
