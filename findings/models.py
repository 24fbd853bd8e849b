from django.conf import settings
from django.db import models
from django.utils import timezone


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
        FAILED = "failed", "Failed"

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

    class Meta:
        ordering = ["case", "-started_at"]

    def __str__(self) -> str:
        return self.title


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

    class Meta:
        ordering = ["case", "-created_at"]

    def __str__(self) -> str:
        return self.question[:60]


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

    class Meta:
        ordering = ["case", "created_at"]

    def __str__(self) -> str:
        return f"[{self.get_severity_display()}] {self.title}"
