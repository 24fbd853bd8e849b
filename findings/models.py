from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from cases.access import can_see_internal
from cases.models import Case, CaseCount
from core.counts import Counted


class Category(models.TextChoices):
    ADVERSARIAL_ROBUSTNESS = "adversarial_robustness", "Adversarial robustness / jailbreak"
    HALLUCINATION = "hallucination", "Hallucination"
    DEMOGRAPHIC_BIAS = "demographic_bias", "Demographic bias"
    SECURITY_VULNERABILITY = "security_vulnerability", "Security vulnerability"
    DANGEROUS_CAPABILITY = "dangerous_capability", "Dangerous capability"
    OTHER = "other", "Other"


class EvaluationRun(models.Model):
    """One evaluation CAISI ran against one model version (step 5)."""

    class RunStatus(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed (error)"
        CANCELLED = "cancelled", "Cancelled"
        # An Inspect log still "started": the run was killed and never finished.
        INCOMPLETE = "incomplete", "Incomplete (stopped before it finished)"

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="evaluations")
    model_version = models.ForeignKey(
        "submissions.ModelVersion", on_delete=models.PROTECT, related_name="evaluations"
    )
    category = models.CharField(max_length=32, choices=Category.choices)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    # Where the run came from an Inspect AI log: what its header says.
    inspect_log = models.FileField(upload_to="inspect-logs/%Y/", blank=True)
    inspect_log_sha256 = models.CharField("log SHA-256", max_length=64, blank=True)
    inspect_eval_id = models.CharField("Inspect eval id", max_length=100, blank=True)
    inspect_run_id = models.CharField("Inspect run id", max_length=100, blank=True)
    inspect_task = models.CharField("task", max_length=200, blank=True)
    inspect_task_version = models.CharField("task version", max_length=50, blank=True)
    inspect_model = models.CharField("model", max_length=200, blank=True)
    inspect_dataset = models.CharField("dataset", max_length=200, blank=True)
    inspect_sample_count = models.PositiveIntegerField("dataset samples", null=True, blank=True)
    inspect_epochs = models.PositiveIntegerField("epochs", null=True, blank=True)
    inspect_total_samples = models.PositiveIntegerField("samples × epochs", null=True, blank=True)
    inspect_completed_samples = models.PositiveIntegerField(
        "completed samples", null=True, blank=True
    )
    inspect_sample_errors = models.PositiveIntegerField("samples in error", null=True, blank=True)
    inspect_error = models.TextField("error message", blank=True)
    inspect_traceback = models.TextField("error traceback", blank=True)
    inspect_revision = models.CharField("revision", max_length=200, blank=True)
    inspect_status = models.CharField("log status", max_length=20, blank=True)
    inspect_scores = models.JSONField(
        "scores", default=list, blank=True, help_text="Every scorer, its reducer and its metrics."
    )
    metric_notes = models.JSONField(
        default=dict,
        blank=True,
        help_text="Metrics stored as null because the log gave no number (NaN, Infinity).",
    )

    class Meta:
        ordering = ["case", "-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "inspect_eval_id"],
                condition=~models.Q(inspect_eval_id=""),
                name="inspect_log_imported_once_per_case",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def from_inspect(self) -> bool:
        return bool(self.inspect_eval_id)

    @property
    def viewer_log_name(self) -> str:
        """The log's name in the viewer's URL; its suffix tells the viewer the format."""
        return "log.eval" if self.inspect_log.name.lower().endswith(".eval") else "log.json"


class InspectImport(models.Model):
    """A large Inspect log received whole and kept, waiting for a worker to read it.

    A log over INSPECT_LOG_INLINE_BYTES takes longer to read than a web
    request may last, so the request keeps the file (hashed as it arrived)
    and this row, and `findings.tasks.import_inspect_log` reads it and records
    the run, or says why it refused the log. The file becomes the run's log.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Being read"
        IMPORTED = "imported", "Imported"
        REFUSED = "refused", "Refused"

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="inspect_imports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    log = models.FileField(upload_to="inspect-logs/%Y/")
    name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    category = models.CharField(max_length=32, choices=Category.choices)
    title = models.CharField(max_length=200, blank=True)
    summary = models.TextField(blank=True)
    model_version = models.ForeignKey(
        "submissions.ModelVersion", on_delete=models.PROTECT, null=True, related_name="+"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    refusal = models.TextField(blank=True)
    run = models.ForeignKey(
        EvaluationRun, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_state_display()})"


class EvaluationSample(models.Model):
    """One sample (in one epoch) of an imported Inspect log, indexed as the log was read."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="samples")
    sample_id = models.CharField(max_length=200)
    epoch = models.PositiveIntegerField(default=1)
    scores = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    input = models.TextField(blank=True)
    target = models.TextField(blank=True)
    output = models.TextField(blank=True)
    messages = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["run", "sample_id", "epoch"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "sample_id", "epoch"], name="one_row_per_sample_epoch"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sample_id} (epoch {self.epoch})"


class ClarificationRequestQuerySet(models.QuerySet):
    def open(self) -> "ClarificationRequestQuerySet":
        return self.filter(status="open")

    def overdue(self, today=None) -> "ClarificationRequestQuerySet":
        """Return the requests still waiting on the company after their due date."""
        return self.open().filter(due_date__lt=today or timezone.localdate())


class ClarificationRequest(models.Model):
    """A question CAISI asks the company; while open, it waits on the company."""

    class RequestStatus(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="clarification_requests"
    )
    question = models.TextField()
    due_date = models.DateField()
    status = models.CharField(
        max_length=16, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    answer = models.TextField(blank=True)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ClarificationRequestQuerySet.as_manager()

    class Meta:
        ordering = ["case", "-created_at"]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return self.question[:60]

    @property
    def is_open(self) -> bool:
        return self.status == self.RequestStatus.OPEN

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_date < timezone.localdate()


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    INFORMATIONAL = "informational", "Informational"


BLOCKING_SEVERITIES = (Severity.CRITICAL, Severity.HIGH)


class FindingState(models.TextChoices):
    DRAFT = "draft", "Draft (internal)"
    SHARED = "shared", "Shared, awaiting the company's answer"
    ANSWERED = "answered", "Answered, awaiting CAISI's review"
    RESOLVED = "resolved", "Resolved"


class Resolution(models.TextChoices):
    VERIFIED_FIXED = "verified_fixed", "Fix verified"
    MITIGATION_ACCEPTED = "mitigation_accepted", "Mitigation accepted"
    RATIONALE_ACCEPTED = "rationale_accepted", "Rationale accepted"


class FindingQuerySet(models.QuerySet):
    def visible_to(self, user) -> "FindingQuerySet":
        """Return the findings of cases this user may see; drafts only for CAISI."""
        qs = self.filter(case__in=Case.objects.visible_to(user))
        if not can_see_internal(user):
            qs = qs.exclude(state=FindingState.DRAFT)
        return qs

    def shown_to(self, user, findings: list) -> list:
        """Return those of one visible case's findings this user may read (`visible_to`'s twin)."""
        if can_see_internal(user):
            return list(findings)
        return [f for f in findings if f.state != FindingState.DRAFT]

    def blocking(self) -> "FindingQuerySet":
        """Return the critical and high findings that clearance still waits on."""
        return self.filter(severity__in=BLOCKING_SEVERITIES).exclude(state=FindingState.RESOLVED)


class Finding(models.Model):
    """One finding of the testing (step 6); internal until shared."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="findings")
    model_version = models.ForeignKey(
        "submissions.ModelVersion", on_delete=models.PROTECT, related_name="findings"
    )
    evaluation = models.ForeignKey(
        EvaluationRun, on_delete=models.PROTECT, null=True, blank=True, related_name="findings"
    )
    sample_ids = models.JSONField(default=list, blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    category = models.CharField(max_length=32, choices=Category.choices)
    title = models.CharField(max_length=200)
    description = models.TextField()
    state = models.CharField(
        max_length=16, choices=FindingState.choices, default=FindingState.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    shared_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=24, choices=Resolution.choices, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["case", "created_at"]
        indexes = [models.Index(fields=["case", "state"])]

    def __str__(self) -> str:
        return f"[{self.get_severity_display()}] {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("findings:finding", kwargs={"number": self.case.number, "pk": self.pk})

    @property
    def is_blocking(self) -> bool:
        return self.severity in BLOCKING_SEVERITIES and self.state != FindingState.RESOLVED

    @property
    def awaits_company(self) -> bool:
        return self.state == FindingState.SHARED


class FindingCountQuerySet(models.QuerySet):
    def visible_to(self, user) -> "FindingCountQuerySet | None":
        """Return the counts of the findings this user may see; None where counts cannot say.

        The twin of `Finding.objects.visible_to` over whole companies (findings
        exist only on submitted cases); an evaluator's cases are counted one by one.
        """
        cases = CaseCount.objects.visible_to(user)
        if cases is None:
            return None
        counts = self.filter(organization_id__in=cases.values("organization_id"))
        if not can_see_internal(user):
            counts = counts.exclude(state=FindingState.DRAFT)
        return counts


class FindingCount(models.Model):
    """How many findings of one severity a company's cases have in one state.

    Kept by the database (`FINDING_COUNTS`), as `CaseCount` is.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    severity = models.CharField(max_length=16, choices=Severity.choices)
    state = models.CharField(max_length=16, choices=FindingState.choices)
    count = models.IntegerField(default=0)

    objects = FindingCountQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "severity", "state"], name="finding_count_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.severity} {self.state}: {self.count}"


FINDING_COUNTS = Counted(
    name="findings_finding_count",
    source="findings_finding",
    counts="findings_findingcount",
    keys={
        "organization_id": "(SELECT organization_id FROM cases_case WHERE id = {row}.case_id)",
        "severity": "{row}.severity",
        "state": "{row}.state",
    },
    watched=("case_id", "severity", "state"),
)


class FindingResponse(models.Model):
    """The company's answer to a shared finding in one round, and CAISI's review of it."""

    class Kind(models.TextChoices):
        FIXED = "fixed", "Fixed in a revised version"
        MITIGATED = "mitigated", "Mitigated"
        DISPUTED = "disputed", "Disputed"

    class Verdict(models.TextChoices):
        PENDING = "pending", "Awaiting CAISI's review"
        VERIFIED = "verified", "Fix verified"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="responses")
    round = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    fixed_in_version = models.ForeignKey(
        "submissions.ModelVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fixes",
    )
    mitigation = models.TextField(blank=True, help_text="The guardrail or mitigation in place.")
    rationale = models.TextField(blank=True, help_text="Why the company disputes the finding.")
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(default=timezone.now)
    verdict = models.CharField(max_length=16, choices=Verdict.choices, default=Verdict.PENDING)
    review_note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["finding", "round"]
        constraints = [
            models.UniqueConstraint(fields=["finding", "round"], name="one_response_per_round")
        ]

    def __str__(self) -> str:
        return f"{self.finding_id} round {self.round}: {self.get_kind_display()}"
