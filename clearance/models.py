import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from submissions.models import Verification


def new_verification_code() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


# Printed on every statement and shown on the verification page, word for word.
NON_ENDORSEMENT = (
    "This clearance statement is not an endorsement by the United States government "
    "or by CAISI of the model, its developer or its uses, and it gives no immunity "
    "from later regulatory action or scrutiny."
)


class Scope(models.TextChoices):
    """What a clearance may cover: the ways the company may offer the model."""

    PUBLIC_API = "public_api", "Access through the company's public API"
    HOSTED_PRODUCTS = "hosted_products", "The company's hosted products and applications"
    ENTERPRISE = "enterprise", "Deployments for enterprise and government customers"
    OPEN_WEIGHTS = "open_weights", "Publication of the model weights"
    RESEARCH = "research", "Research and internal use"


class Condition(models.TextChoices):
    """The conditions CAISI most often attaches to a clearance, word for word."""

    MONITORING = "monitoring", "File the monitoring reports this statement asks for, when due."
    INCIDENTS = (
        "incidents",
        "Report post-release incidents to CAISI within the deadline for their severity.",
    )
    MATERIAL_CHANGE = (
        "material_change",
        "Declare any material change to the model to CAISI before deploying it.",
    )
    SAFEGUARDS = (
        "safeguards",
        "Keep in place the safeguards described in the risk mitigation strategy CAISI reviewed.",
    )
    INTENDED_USES = (
        "intended_uses",
        "Offer the model only for the intended uses stated to CAISI at intake.",
    )


class ClearanceStatementQuerySet(models.QuerySet):
    def without_pdf(self) -> "ClearanceStatementQuerySet":
        """Return the statements whose signed PDF has not been stored yet."""
        return self.filter(pdf="")


class ClearanceStatement(models.Model):
    """CAISI's statement that one exact model version completed the review (step 7).

    What the statement says about the model is copied in when it is issued, so
    a later rename of the company or model cannot change a published statement.
    """

    class StatementStatus(models.TextChoices):
        ISSUED = "issued", "Valid"
        SUSPENDED = "suspended", "Suspended"
        SUPERSEDED = "superseded", "Superseded"
        REVOKED = "revoked", "Revoked"
        # Never stored: a statement issued with a validity period is expired once
        # it has passed (`live_status`), whatever its stored status was.
        EXPIRED = "expired", "Expired"

    number = models.CharField(max_length=30, unique=True)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="clearance_statements"
    )
    model_version = models.ForeignKey(
        "submissions.ModelVersion", on_delete=models.PROTECT, related_name="clearance_statements"
    )
    company_name = models.CharField(max_length=200, blank=True)
    model_name = models.CharField(max_length=200, blank=True)
    version_label = models.CharField(max_length=100, blank=True)
    vcs_reference = models.CharField("VCS reference", max_length=200, blank=True)
    # The digest CAISI verified ("sha256:<hex>"), and how; empty when only an
    # endpoint was reached. The company's declared digest is kept beside it.
    digest = models.CharField(max_length=300, blank=True)
    digest_verification = models.CharField(max_length=32, choices=Verification.choices, blank=True)
    declared_digest = models.CharField(max_length=300, blank=True)
    # The scope and conditions chosen from the lists above, in their printed words
    # (copied, like the rest), then anything the official wrote beside them.
    scope_items = models.JSONField(default=list, blank=True)
    scope = models.TextField(blank=True)
    condition_items = models.JSONField(default=list, blank=True)
    conditions = models.TextField(blank=True)
    official = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    official_name = models.CharField(max_length=200, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    verification_code = models.CharField(
        max_length=64, unique=True, default=new_verification_code, editable=False
    )
    status = models.CharField(
        max_length=16, choices=StatementStatus.choices, default=StatementStatus.ISSUED
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(
        null=True, blank=True, help_text="The end of the validity period, if it has one."
    )
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revocation_reason = models.TextField(blank=True)
    pdf = models.FileField(upload_to="statements/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)
    # When its render was last handed to the broker: the sweep's claim mark.
    render_published_at = models.DateTimeField(null=True, blank=True)
    # How signing went so far, for the case page while the PDF is not there yet.
    render_attempts = models.PositiveSmallIntegerField(default=0)
    render_error = models.CharField(max_length=500, blank=True)

    objects = ClearanceStatementQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        indexes = [
            # The render sweep looks for statements without a PDF.
            models.Index(
                fields=["issued_at"], condition=models.Q(pdf=""), name="statement_without_pdf"
            )
        ]

    def __str__(self) -> str:
        return self.number

    def get_verification_url(self) -> str:
        return settings.SITE_URL + reverse("verify", kwargs={"code": self.verification_code})

    def get_download_url(self) -> str:
        return reverse(
            "statement_download", kwargs={"number": self.case.number, "statement": self.number}
        )

    @property
    def is_being_signed(self) -> bool:
        return not self.pdf

    @property
    def all_conditions(self) -> list[str]:
        """Every condition in the order printed: the chosen ones, then each line written."""
        written = [line.strip() for line in self.conditions.splitlines() if line.strip()]
        return [*self.condition_items, *written]

    @property
    def live_status(self) -> str:
        """Return the status in force now: the stored one, or expired once the period is over."""
        still_standing = {self.StatementStatus.ISSUED, self.StatementStatus.SUSPENDED}
        if self.status in still_standing and self.is_past_validity():
            return self.StatementStatus.EXPIRED
        return self.status

    @property
    def live_status_label(self) -> str:
        return self.StatementStatus(self.live_status).label

    def digest_verification_text(self) -> str:
        """How CAISI knows the digest, in the words the PDF and the public page print."""
        if self.digest_verification == Verification.RECEIVED_WEIGHTS:
            return "Verified by CAISI: SHA-256 computed on the weights CAISI received."
        if self.digest_verification == Verification.CONTAINER_DIGEST:
            return "Verified by CAISI: container image pulled by this digest."
        if self.digest_verification == Verification.ENDPOINT_ONLY:
            return "Not verified by CAISI: CAISI reached the model through an API endpoint only."
        return "Not recorded: this statement was issued before CAISI recorded how it verified."

    @property
    def is_valid(self) -> bool:
        return self.live_status == self.StatementStatus.ISSUED

    def is_past_validity(self, at=None) -> bool:
        return self.valid_until is not None and self.valid_until <= (at or timezone.now())

    @property
    def pdf_filename(self) -> str:
        return f"statements/{self.number}.pdf"


class StatementStatusChange(models.Model):
    """One dated change of a statement's status: its public history.

    The verification page shows the status and the date of each; the reason is
    for the company and CAISI on the case page, never for the public page.
    """

    class Change(models.TextChoices):
        ISSUED = "issued", "Issued"
        SUSPENDED = "suspended", "Suspended"
        REINSTATED = "reinstated", "Reinstated"
        SUPERSEDED = "superseded", "Superseded"
        REVOKED = "revoked", "Revoked"

    statement = models.ForeignKey(
        ClearanceStatement, on_delete=models.PROTECT, related_name="history"
    )
    change = models.CharField(max_length=16, choices=Change.choices)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["statement", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.statement_id} {self.change} {self.at:%Y-%m-%d}"
