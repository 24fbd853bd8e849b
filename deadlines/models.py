"""Dated obligations of a case and the reminders sent for them."""

from django.db import models
from django.utils import timezone

from cases.models import Case


class DeadlineKind(models.TextChoices):
    PLANNED_RELEASE = "planned_release", "Planned release date"
    CLARIFICATION_DUE = "clarification_due", "Clarification request due"
    FINDING_RESPONSE_DUE = "finding_response_due", "Response to a finding due"
    ACCESS_EXPIRY = "access_expiry", "Model access expires"
    SERVICE_LEVEL = "service_level", "Service level of the current step"
    INCIDENT_INITIAL_REPORT = "incident_initial_report", "Initial incident report due"
    INCIDENT_UPDATE = "incident_update", "Incident update due"
    INCIDENT_FINAL_REPORT = "incident_final_report", "Final incident report due"
    MONITORING_REPORT_DUE = "monitoring_report_due", "Monitoring report due"


class DeadlineQuerySet(models.QuerySet):
    def pending(self) -> "DeadlineQuerySet":
        return self.filter(satisfied_at__isnull=True)

    def due_for_reminder(self, now) -> "DeadlineQuerySet":
        """Return the pending deadlines whose next reminder has come (read through an index)."""
        return self.pending().filter(next_reminder_at__lte=now)

    def overdue(self, now=None) -> "DeadlineQuerySet":
        return self.pending().filter(due_at__lt=now or timezone.now())


class Deadline(models.Model):
    """One dated obligation of a case, kept current from the case's records."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(max_length=32, choices=DeadlineKind.choices)
    # What the deadline is about within its kind: a status, "clarification:12", ...
    subject = models.CharField(max_length=64, blank=True)
    base_due_at = models.DateTimeField(help_text="The due time before any paused clock.")
    due_at = models.DateTimeField(help_text="The due time, moved later by paused clocks.")
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    satisfied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        db_table = "cases_deadline"
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "subject"],
                condition=models.Q(satisfied_at__isnull=True),
                name="one_pending_deadline_per_subject",
            )
        ]
        indexes = [
            # The reminder sweep reads only this: pending rows by next reminder time.
            models.Index(
                fields=["next_reminder_at"],
                condition=models.Q(satisfied_at__isnull=True),
                name="deadline_reminder_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.subject} due {self.due_at:%Y-%m-%d}"

    @property
    def is_overdue(self) -> bool:
        return self.satisfied_at is None and self.due_at < timezone.now()


class ReminderSent(models.Model):
    """A reminder of one deadline at one offset; inserted before the send, so sent once."""

    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, related_name="reminders")
    # Days before the due time; 0 on the day; negative while overdue (-7, -14, ...).
    offset_days = models.IntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    # Set once its notices exist; a claim left without it (a lost publish) is sent again.
    delivered_at = models.DateTimeField(null=True, blank=True)
    # When its delivery was last published: a republish claims the row by moving it.
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "cases_remindersent"
        constraints = [
            models.UniqueConstraint(
                fields=["deadline", "offset_days"], name="one_reminder_per_offset"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(delivered_at__isnull=True),
                name="reminder_undelivered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deadline} at {self.offset_days:+d}d"
