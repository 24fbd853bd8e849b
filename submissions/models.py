from django.conf import settings
from django.db import models
from django.utils import timezone


class ModelVersion(models.Model):
    """One version of the model under review, pinned by VCS reference and digest."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="versions")
    label = models.CharField(max_length=100, help_text="For example v1.0-rc2.")
    vcs_reference = models.CharField(
        "VCS reference", max_length=200, help_text="Commit hash or tag of the reviewed code."
    )
    artifact_sha256 = models.CharField("artifact SHA-256", max_length=64, blank=True)
    container_image = models.CharField(
        max_length=300, blank=True, help_text="Image reference with digest, e.g. repo@sha256:…"
    )
    changelog = models.TextField(blank=True)
    submitted_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the version is submitted; then it is frozen."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.label} ({self.vcs_reference})"

    @property
    def digest(self) -> str:
        if self.artifact_sha256:
            return f"sha256:{self.artifact_sha256}"
        if "@sha256:" in self.container_image:
            return self.container_image.split("@", 1)[1]
        return ""


class AccessMethod(models.TextChoices):
    WEIGHTS_UPLOAD = "weights_upload", "Secure upload of weights"
    API_ENDPOINT = "api_endpoint", "API endpoint"
    CONTAINER_REGISTRY = "container_registry", "Container image"


class AccessGrant(models.Model):
    """How CAISI reaches the model (step 3)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="access_grants")
    method = models.CharField(max_length=32, choices=AccessMethod.choices)
    endpoint_url = models.URLField(blank=True)
    instructions = models.TextField(blank=True)
    credentials_encrypted = models.TextField(blank=True, editable=False)
    nda_reference = models.CharField("NDA reference", max_length=200, blank=True)
    nda_signed_on = models.DateField("NDA signed on", null=True, blank=True)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    checksum_verified = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "-created_at"]

    def __str__(self) -> str:
        return f"{self.get_method_display()} for {self.case_id}"

    def is_live(self, at=None) -> bool:
        at = at or timezone.now()
        return (
            self.revoked_at is None
            and self.valid_from <= at
            and self.valid_until is not None
            and self.valid_until > at
        )


class DocumentKind(models.TextChoices):
    MODEL_CARD = "model_card", "Model card"
    SAFETY_REPORT = "safety_report", "Safety report"
    DEPLOYMENT_PLAN = "deployment_plan", "Deployment plan"
    RISK_MITIGATION = "risk_mitigation", "Risk mitigation strategy"
    OTHER = "other", "Other"


REQUIRED_DOCUMENT_KINDS = (
    DocumentKind.MODEL_CARD,
    DocumentKind.SAFETY_REPORT,
    DocumentKind.DEPLOYMENT_PLAN,
    DocumentKind.RISK_MITIGATION,
)


class DocumentState(models.TextChoices):
    SUBMITTED = "submitted", "Awaiting review"
    ACCEPTED = "accepted", "Accepted"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"


class Document(models.Model):
    """One uploaded document of the documentation package (step 4)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=32, choices=DocumentKind.choices)
    title = models.CharField(max_length=200, blank=True)
    version_number = models.PositiveIntegerField(default=1)
    file = models.FileField(upload_to="documents/", blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    state = models.CharField(
        max_length=32, choices=DocumentState.choices, default=DocumentState.SUBMITTED
    )
    review_comment = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "kind", "-version_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "version_number"], name="document_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version_number}"
