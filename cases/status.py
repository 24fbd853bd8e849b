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
