import datetime as dt
import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import (
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

from cases.access import SEES_DRAFTS, Scope, can_see_internal, conflicted_organizations, scope_of
from cases.status import OPEN_STATUSES, STEP_OF_STATUS, DeploymentStatus, Status
from core.counts import Counted

CASE_NUMBER_PATTERN = r"CAISI-\d{4}-\d{4,}"


class ReleaseType(models.TextChoices):
    RESTRICTED_API = "restricted_api", "Restricted API"
    HOSTED = "hosted", "Hosted product"
    OPEN_WEIGHTS = "open_weights", "Open weights"


def lead_time_horizon(today: dt.date | None = None) -> dt.date:
    """Return the first release date that leaves a review its usual time: the one rule.

    A planned release before it is a short lead time, flagged from intake on.
    """
    today = today or timezone.localdate()
    return today + dt.timedelta(days=settings.REVIEW_LEAD_TIME_DAYS)


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CaseQuerySet":
        """Return the cases this user may see: the one place confidentiality is decided.

        It reads the role table of `cases.access`, as `can_view` does for one case.
        """
        scope = scope_of(user)
        if scope is None:
            return self.none()
        if scope == Scope.ORGANIZATION:
            return self.filter(organization_id=user.membership.organization_id)
        cases = self.exclude(organization_id__in=conflicted_organizations(user))
        if scope not in SEES_DRAFTS:
            cases = cases.submitted()
        if scope == Scope.ASSIGNED:
            return cases.filter(evaluators=user)
        return cases if scope == Scope.ALL else self.none()

    def open(self) -> "CaseQuerySet":
        return self.filter(status__in=OPEN_STATUSES)

    def submitted(self) -> "CaseQuerySet":
        """Leave out the company's drafts: cases never submitted, even if withdrawn since."""
        return self.filter(submitted_at__isnull=False)

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

    def short_lead_time(self, today=None) -> "CaseQuerySet":
        """Return open cases whose planned release is closer than a review usually takes."""
        return self.open().filter(planned_release_date__lt=lead_time_horizon(today))


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
    # After clearance: where the model stands in service, beside the review's status.
    deployment_status = models.CharField(
        max_length=20, choices=DeploymentStatus.choices, default=DeploymentStatus.NOT_RELEASED
    )
    deployment_changed_at = models.DateTimeField(null=True, blank=True)
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
    # What the company sees last changed: moved only by events shown to it, so
    # CAISI's internal work cannot be timed from its ETag, dates or order.
    company_updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the company submitted the intake; empty for a draft."
    )
    status_changed_at = models.DateTimeField(default=timezone.now)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["organization", "-company_updated_at"]),
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
            # The dashboard's aging chart counts the open cases by when their status
            # began: read from this index alone, not from every case's wide row.
            models.Index(
                fields=["status_changed_at", "organization", "submitted_at", "status", "id"],
                name="case_open_status_age",
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
        return self.planned_release_date < lead_time_horizon()

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


class CaseCountQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CaseCountQuerySet | None":
        """Return the counts of the cases this user may see; None where counts cannot say.

        The twin of `Case.objects.visible_to` over whole companies. An evaluator
        sees cases picked one by one, which no company's count tells apart.
        """
        scope = scope_of(user)
        if scope is None:
            return self.none()
        if scope == Scope.ORGANIZATION:
            return self.filter(organization_id=user.membership.organization_id)
        if scope == Scope.ASSIGNED:
            return None
        counts = self.exclude(organization_id__in=conflicted_organizations(user))
        if scope not in SEES_DRAFTS:
            counts = counts.filter(submitted=True)
        return counts if scope == Scope.ALL else self.none()


class CaseCount(models.Model):
    """How many cases a company has in one status, submitted or still a draft.

    Kept by the database (`CASE_COUNTS`): triggers move it with every case
    written, so figures over every case read a few hundred rows, not all cases.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices)
    submitted = models.BooleanField()
    count = models.IntegerField(default=0)

    objects = CaseCountQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "status", "submitted"], name="case_count_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.status} {self.submitted}: {self.count}"


CASE_COUNTS = Counted(
    name="cases_case_count",
    source="cases_case",
    counts="cases_casecount",
    keys={
        "organization_id": "{row}.organization_id",
        "status": "{row}.status",
        "submitted": "({row}.submitted_at IS NOT NULL)",
    },
    watched=("organization_id", "status", "submitted_at"),
)


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
        if not can_see_internal(user):
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


class MessageQuerySet(models.QuerySet):
    def visible_to(self, user) -> "MessageQuerySet":
        """Return the messages of visible cases, without internal ones for companies."""
        qs = self.filter(case__in=Case.objects.visible_to(user))
        if not can_see_internal(user):
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


class TimelineCheckpointQuerySet(models.QuerySet):
    def delete(self):
        raise AppendOnlyError("Timeline checkpoints are append-only.")

    def update(self, **kwargs):
        raise AppendOnlyError("Timeline checkpoints are append-only.")


class TimelineCheckpoint(models.Model):
    """A signed statement of the heads of the case timelines that moved since the last one.

    A hash chain shows a changed or removed event in its middle; only a record
    of its head kept apart, and signed, shows that its newest events were cut
    off or the whole chain rewritten. Each checkpoint names the previous one's
    root, so the checkpoints form a chain of their own.
    """

    seq = models.PositiveIntegerField(unique=True)
    signed_at = models.DateTimeField()
    prev_root = models.CharField(max_length=64, blank=True)
    root = models.CharField(max_length=64, help_text="SHA-256 of the signed payload.")
    signature = models.TextField(help_text="Base64 detached signature over the payload.")
    certificate_sha256 = models.CharField(max_length=64)

    objects = TimelineCheckpointQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} {self.signed_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Timeline checkpoints are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Timeline checkpoints are append-only.")


class CheckpointHead(models.Model):
    """The head of one case's timeline as a checkpoint signed it."""

    checkpoint = models.ForeignKey(
        TimelineCheckpoint, on_delete=models.PROTECT, related_name="heads"
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="checkpoint_heads")
    case_number = models.CharField(max_length=20)
    seq = models.PositiveIntegerField()
    hash = models.CharField(max_length=64)

    objects = TimelineCheckpointQuerySet.as_manager()

    class Meta:
        ordering = ["checkpoint", "case_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "case"], name="checkpoint_head_once_per_case"
            )
        ]
        indexes = [
            # A case's newest signed head: the one its chain must still reach.
            models.Index(fields=["case", "-checkpoint"], name="checkpoint_head_latest")
        ]

    def __str__(self) -> str:
        return f"{self.case_number}#{self.seq} in checkpoint {self.checkpoint_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Timeline checkpoints are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Timeline checkpoints are append-only.")
