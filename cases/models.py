import datetime as dt
import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import (
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role

from .lifecycle import OPEN_STATUSES, STEP_OF_STATUS, Status

CASE_NUMBER_PATTERN = r"CAISI-\d{4}-\d{4,}"


class ReleaseType(models.TextChoices):
    RESTRICTED_API = "restricted_api", "Restricted API"
    HOSTED = "hosted", "Hosted product"
    OPEN_WEIGHTS = "open_weights", "Open weights"


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CaseQuerySet":
        """Return the cases this user may see: the one place confidentiality is decided."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        role = user.role
        if role in (Role.CASE_MANAGER, Role.CLEARANCE_OFFICIAL, Role.AUDITOR):
            return self.all()
        if role == Role.EVALUATOR:
            return self.filter(evaluators=user)
        if role == Role.LIAISON:
            return self.filter(organization_id=user.membership.organization_id)
        return self.none()

    def open(self) -> "CaseQuerySet":
        return self.filter(status__in=OPEN_STATUSES)

    def submitted(self) -> "CaseQuerySet":
        """Leave out cases still in intake: the company's drafts, not yet CAISI's to work on."""
        return self.exclude(status=Status.INTAKE)

    def with_clock(self, now=None) -> "CaseQuerySet":
        """Annotate the time paused in the current status and when its clock effectively began.

        `clock_start` is `status_changed_at` pushed later by every pause, so
        ordering by it ascending puts the case waiting longest on CAISI first.
        """
        now = now or timezone.now()
        overlap = Greatest(
            ExpressionWrapper(
                Least(Coalesce("ended_at", Value(now)), Value(now))
                - Greatest("started_at", OuterRef("status_changed_at")),
                output_field=models.DurationField(),
            ),
            Value(dt.timedelta(0)),
            output_field=models.DurationField(),
        )
        paused = (
            ClockPause.objects.filter(case=OuterRef("pk"))
            .values("case")
            .annotate(total=Sum(overlap))
            .values("total")
        )
        return self.annotate(
            paused_in_status=Coalesce(
                Subquery(paused, output_field=models.DurationField()),
                Value(dt.timedelta(0)),
                output_field=models.DurationField(),
            ),
        ).annotate(
            clock_start=ExpressionWrapper(
                F("status_changed_at") + F("paused_in_status"),
                output_field=models.DateTimeField(),
            )
        )

    def with_overdue(self, today=None) -> "CaseQuerySet":
        """Annotate whether a clarification request is past its due date."""
        from findings.models import ClarificationRequest

        return self.annotate(
            has_overdue_request=Exists(
                ClarificationRequest.objects.overdue(today).filter(case=OuterRef("pk"))
            )
        )

    def short_lead_time(self, today=None) -> "CaseQuerySet":
        """Return open cases whose planned release is closer than a review usually takes."""
        today = today or timezone.localdate()
        horizon = today + dt.timedelta(days=settings.REVIEW_LEAD_TIME_DAYS)
        return self.open().filter(planned_release_date__lt=horizon)


class Case(models.Model):
    """One model's voluntary pre-release review."""

    number = models.CharField(max_length=20, unique=True, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="cases"
    )
    title = models.CharField(max_length=200)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.INTAKE, db_index=True
    )
    case_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_cases",
    )
    evaluators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="evaluated_cases"
    )

    # Step 1: the intake. Every field may be saved as a draft while empty;
    # the submit_intake gate names the ones still missing.
    model_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    architecture = models.CharField(max_length=200, blank=True)
    parameter_count = models.PositiveBigIntegerField(null=True, blank=True)
    training_compute = models.CharField(
        max_length=100, blank=True, help_text="For example 3.8e25 FLOP."
    )
    training_data_description = models.TextField(blank=True)
    intended_uses = models.TextField(blank=True)
    modality = models.CharField(max_length=100, blank=True)
    release_type = models.CharField(max_length=20, choices=ReleaseType.choices, blank=True)
    planned_release_date = models.DateField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["organization", "-updated_at"]),
            models.Index(fields=["status", "-updated_at"]),
            # Staff lists of every case, most recently changed first (the API's cursor
            # order): without it, each page sorts the whole table.
            models.Index(fields=["-updated_at", "-id"], name="case_last_change"),
            # The triage queue's default order starts with the planned release: read in
            # order, the first page stops after a few rows instead of sorting every open case.
            models.Index(fields=["planned_release_date"], name="case_planned_release"),
            # The same over open cases alone: after a few years most cases are closed,
            # and the queue's first page would skip tens of thousands of them first.
            models.Index(
                fields=["planned_release_date"],
                name="case_open_planned_release",
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("cases:detail", kwargs={"number": self.number})

    @property
    def step(self) -> int | None:
        return STEP_OF_STATUS.get(self.status)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def short_lead_time(self) -> bool:
        """Whether the planned release leaves less time than a review usually takes."""
        if self.planned_release_date is None or not self.is_open:
            return False
        days = (self.planned_release_date - timezone.localdate()).days
        return days < settings.REVIEW_LEAD_TIME_DAYS

    def paused_since_status_change(self, now=None) -> dt.timedelta:
        """Return how long the clock stood still since the status last changed."""
        if hasattr(self, "paused_in_status"):
            return self.paused_in_status
        now = now or timezone.now()
        total = dt.timedelta(0)
        for pause in self.clock_pauses.all():
            start = max(pause.started_at, self.status_changed_at)
            end = min(pause.ended_at or now, now)
            total += max(end - start, dt.timedelta(0))
        return total

    def days_in_status(self, now=None) -> int:
        """Return whole days in the current status, not counting time paused on the company."""
        now = now or timezone.now()
        return max((now - self.status_changed_at - self.paused_since_status_change(now)).days, 0)

    @property
    def clock_paused(self) -> bool:
        return any(p.ended_at is None for p in self.clock_pauses.all())


class CaseNumberCounter(models.Model):
    """The last case number given in a year; its row lock serializes numbering."""

    year = models.PositiveIntegerField(primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_value}"


class AppendOnlyError(Exception):
    pass


class CaseEventQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CaseEventQuerySet":
        """Return the events of visible cases, without internal ones for companies."""
        qs = self.filter(case__in=Case.objects.visible_to(user))
        if user.is_authenticated and user.role == Role.LIAISON:
            qs = qs.filter(internal=False)
        return qs

    def delete(self):
        raise AppendOnlyError("The case timeline is append-only.")

    def update(self, **kwargs):
        raise AppendOnlyError("The case timeline is append-only.")


class CaseEvent(models.Model):
    """One entry of a case's append-only, hash-chained timeline."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    verb = models.CharField(max_length=64)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    internal = models.BooleanField(
        default=False, help_text="Internal events are never shown to the company."
    )
    created_at = models.DateTimeField(default=timezone.now)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        ordering = ["case", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.verb}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The case timeline is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The case timeline is append-only.")

    def content(self, case_number: str) -> dict:
        """Return what the hash covers."""
        return {
            "case": case_number,
            "seq": self.seq,
            "actor": self.actor_id,
            "verb": self.verb,
            "from": self.from_status,
            "to": self.to_status,
            "details": self.details,
            "internal": self.internal,
            "created_at": self.created_at.astimezone(UTC).isoformat(),
            "prev": self.prev_hash,
        }

    def compute_hash(self, case_number: str) -> str:
        payload = json.dumps(
            self.content(case_number), sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    @property
    def verb_label(self) -> str:
        return self.verb.replace("_", " ").capitalize()


class NotificationKind(models.TextChoices):
    CASE_UPDATE = "case_update", "Status changes of a case"
    MESSAGE = "message", "Messages and clarification requests"
    ACTIVITY = "activity", "Other activity on a case"
    REMINDER = "reminder", "Deadline reminders"


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate", "Email me at once"
    DIGEST = "digest", "In the daily digest"
    OFF = "off", "No email"


class EmailState(models.TextChoices):
    PENDING = "pending", "Waiting to be emailed"
    SENDING = "sending", "Being emailed"
    SENT = "sent", "Emailed"
    NOT_EMAILED = "not_emailed", "Not emailed (preference)"


class Notification(models.Model):
    """A notice to one person about a case event or a deadline reminder."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="notifications", null=True
    )
    kind = models.CharField(
        max_length=16, choices=NotificationKind.choices, default=NotificationKind.ACTIVITY
    )
    event = models.ForeignKey(
        CaseEvent, on_delete=models.PROTECT, related_name="notifications", null=True, blank=True
    )
    reminder = models.ForeignKey(
        "ReminderSent",
        on_delete=models.PROTECT,
        related_name="notifications",
        null=True,
        blank=True,
    )
    text = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # The person's choice when the notice was made: a later change of mind
    # does not resend or drop what is already queued.
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.DIGEST)
    email_state = models.CharField(
        max_length=16, choices=EmailState.choices, default=EmailState.PENDING
    )
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One notice per person per event or reminder: nothing is sent twice.
            models.UniqueConstraint(fields=["user", "event"], name="one_notification_per_event"),
            models.UniqueConstraint(
                fields=["user", "reminder"], name="one_notification_per_reminder"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            models.Index(
                fields=["delivery", "user"],
                condition=models.Q(email_state="pending"),
                name="notification_email_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ← {self.text or self.event}"

    def get_absolute_url(self) -> str:
        return self.case.get_absolute_url() if self.case_id else reverse("cases:dashboard")


class NotificationPreference(models.Model):
    """How one person wants to hear about one kind of notice (the default is the digest)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.DIGEST)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} → {self.delivery}"


class DigestRun(models.Model):
    """The one daily digest a person gets on one day; its unique row is the claim."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(null=True, blank=True)
    notification_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="one_digest_a_day")]

    def __str__(self) -> str:
        return f"digest {self.day} for {self.user_id}"


class DeadlineKind(models.TextChoices):
    PLANNED_RELEASE = "planned_release", "Planned release date"
    CLARIFICATION_DUE = "clarification_due", "Clarification request due"
    FINDING_RESPONSE_DUE = "finding_response_due", "Response to a finding due"
    ACCESS_EXPIRY = "access_expiry", "Model access expires"
    SERVICE_LEVEL = "service_level", "Service level of the current step"


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


class MessageQuerySet(models.QuerySet):
    def visible_to(self, user) -> "MessageQuerySet":
        """Return the messages of visible cases, without internal ones for companies."""
        qs = self.filter(case__in=Case.objects.visible_to(user))
        if not user.is_authenticated or not user.is_caisi_staff:
            qs = qs.filter(internal=False)
        return qs


class Message(models.Model):
    """One message of a case's thread: shared with the company, or internal to CAISI."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    internal = models.BooleanField(
        default=False, help_text="Internal messages are never shown to the company."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["case", "created_at", "pk"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.author}: {self.body[:40]}"


class ClockPause(models.Model):
    """A stretch of time the service-level clock stood still, waiting on the company."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clock_pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["case", "started_at"]
        constraints = [
            # At most one running pause per case: overlapping waits share one interval.
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(ended_at__isnull=True),
                name="one_running_clock_pause_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} paused {self.started_at:%Y-%m-%d} – {self.ended_at or 'now'}"


class PendingTask(models.Model):
    """Background work written in the transaction that calls for it, awaiting its publish.

    `cases.outbox` publishes the row to the broker after the commit and
    deletes it; a row still here is work the broker has not received yet.
    """

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.task_name}{tuple(self.args)}"
