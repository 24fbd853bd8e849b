import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


def new_verification_code() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


class ClearanceStatement(models.Model):
    """CAISI's statement that one exact model version completed the review (step 7)."""

    class StatementStatus(models.TextChoices):
        ISSUED = "issued", "Valid"
        SUPERSEDED = "superseded", "Superseded"
        REVOKED = "revoked", "Revoked"

    number = models.CharField(max_length=30, unique=True)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="clearance_statements"
    )
    model_version = models.ForeignKey(
        "submissions.ModelVersion", on_delete=models.PROTECT, related_name="clearance_statements"
    )
    scope = models.TextField()
    conditions = models.TextField(blank=True)
    official = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(default=timezone.now)
    verification_code = models.CharField(
        max_length=64, unique=True, default=new_verification_code, editable=False
    )
    status = models.CharField(
        max_length=16, choices=StatementStatus.choices, default=StatementStatus.ISSUED
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)
    pdf = models.FileField(upload_to="statements/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return self.number

    def get_verification_url(self) -> str:
        return settings.SITE_URL + reverse("verify", kwargs={"code": self.verification_code})
