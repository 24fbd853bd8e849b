"""What follows release: incidents, the monitoring reports a clearance asks for, material changes.

Plain rows with plain fields, so the case's record exports them as they are.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.access import can_see_internal
from cases.models import Case


class IncidentSeverity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class TriageState(models.TextChoices):
    REPORTED = "reported", "Reported, not yet triaged"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    UNDER_REVIEW = "under_review", "Under review"
    CLOSED = "closed", "Closed"


class IncidentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "IncidentQuerySet":
        """Return the incidents of the cases this user may see."""
        return self.filter(case__in=Case.objects.visible_to(user))

    def open(self) -> "IncidentQuerySet":
        return self.exclude(triage_state=TriageState.CLOSED)


class Incident(models.Model):
    """A post-release incident of a cleared model, reported by the company or by CAISI."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="incidents")
    number = models.PositiveIntegerField(help_text="The incident's number within its case.")
    summary = models.TextField(help_text="What happened.")
    detected_at = models.DateTimeField(help_text="When the company became aware of it.")
    severity = models.CharField(max_length=10, choices=IncidentSeverity.choices)
    affected_versions = models.TextField(blank=True)
    affected_uses = models.TextField(blank=True)
    users_affected = models.CharField(max_length=200, blank=True)
    mitigations = models.TextField(blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(default=timezone.now)
    # The company's reports: the initial one (at once when the company opens the
    # incident), the latest update, the resolution and the final report.
    initial_report_at = models.DateTimeField(null=True, blank=True)
    last_update_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    final_report_at = models.DateTimeField(null=True, blank=True)
    # CAISI's triage.
    triage_state = models.CharField(
        max_length=16, choices=TriageState.choices, default=TriageState.REPORTED
    )
    conclusion = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The lifecycle action CAISI or the company took in answer, if any
    # (restrict_deployment, suspend_clearance, revoke_clearance, require_resubmission, ...).
    response_action = models.CharField(max_length=40, blank=True)
    response_at = models.DateTimeField(null=True, blank=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["case", "number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="incident_number_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} incident {self.number}"

    @property
    def is_open(self) -> bool:
        return self.triage_state != TriageState.CLOSED


class IncidentNoteQuerySet(models.QuerySet):
    def visible_to(self, user) -> "IncidentNoteQuerySet":
        """Return the notes of visible incidents, without internal ones for companies."""
        qs = self.filter(incident__case__in=Case.objects.visible_to(user))
        if not can_see_internal(user):
            qs = qs.filter(internal=False)
        return qs


class IncidentNote(models.Model):
    """One note on an incident: shared with the company, or internal to CAISI (as messages)."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        UPDATE = "update", "Update from the company"
        FINAL_REPORT = "final_report", "Final report"
        TRIAGE = "triage", "Triage"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="notes")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NOTE)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    internal = models.BooleanField(
        default=False, help_text="Internal notes are never shown to the company."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = IncidentNoteQuerySet.as_manager()

    class Meta:
        ordering = ["incident", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.incident} {self.kind}: {self.body[:40]}"


class ReportState(models.TextChoices):
    DUE = "due", "Due"
    SUBMITTED = "submitted", "Awaiting review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    ACCEPTED = "accepted", "Accepted"


class MonitoringReport(models.Model):
    """One post-deployment monitoring report a clearance asks for, due on a date."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="monitoring_reports")
    statement_number = models.CharField(
        max_length=30, help_text="The clearance statement whose conditions ask for it."
    )
    sequence = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    state = models.CharField(max_length=20, choices=ReportState.choices, default=ReportState.DUE)
    # The uploaded file is a document of the case (the document pipeline's checks).
    document = models.ForeignKey(
        "submissions.Document", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "due_at", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "statement_number", "sequence"], name="monitoring_report_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} monitoring report {self.sequence} due {self.due_at:%Y-%m-%d}"

    @property
    def awaits_company(self) -> bool:
        return self.state in (ReportState.DUE, ReportState.CHANGES_REQUESTED)


class MaterialChange(models.Model):
    """A change the company declared after release, and CAISI's decision on it."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Awaiting CAISI's decision"
        NO_REVIEW = "no_review", "No new review needed"
        RESUBMIT = "resubmit", "A revised version must be resubmitted"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="material_changes")
    description = models.TextField()
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    declared_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "declared_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(decision="pending"),
                name="one_undecided_material_change",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} material change {self.declared_at:%Y-%m-%d}: {self.decision}"
