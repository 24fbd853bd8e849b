import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.folding import prefetched

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def normalize_sha256(value: str) -> str:
    """Return a SHA-256 as it is stored: 64 lowercase hex, any "sha256:" prefix dropped.

    Companies write digests as "sha256:ABC…", "SHA256:abc…" or bare hex; every
    input goes through here, so one digest is never stored two ways. The
    prefixed form is only ever produced for display (`as_digest`).
    """
    text = (value or "").strip().lower()
    if text.startswith("sha256:"):
        text = text[len("sha256:") :].strip()
    return text


def normalize_image_reference(value: str) -> str:
    """Return an image reference with its digest part in the stored form (repo@sha256:<hex>)."""
    text = (value or "").strip()
    if "@" not in text:
        return text
    name, digest = text.rsplit("@", 1)
    return f"{name}@sha256:{normalize_sha256(digest)}"


def as_digest(sha256_hex: str) -> str:
    """Return the displayed digest of a stored SHA-256 ("sha256:<hex>"), or ""."""
    return f"sha256:{sha256_hex}" if sha256_hex else ""


class Packaging(models.TextChoices):
    CONTAINER_IMAGE = "container_image", "Container image (e.g. Docker)"
    WEIGHTS_ARCHIVE = "weights_archive", "Weights archive with inference code"
    API_ONLY = "api_only", "Reachable only through an API"
    OTHER = "other", "Other"


class ModelVersionQuerySet(models.QuerySet):
    def pending(self) -> "ModelVersionQuerySet":
        """Return the versions not yet sent to CAISI (still editable)."""
        return self.filter(submitted_at__isnull=True)

    def submitted(self) -> "ModelVersionQuerySet":
        """Return the versions sent to CAISI, the most recently submitted first."""
        return self.filter(submitted_at__isnull=False).order_by("-submitted_at", "-pk")

    def _read_with(self, case) -> list | None:
        # The case's versions, when its page read them with it (and nothing narrows them here).
        return None if self.query.where else prefetched(case, "versions")

    def under_test(self, case) -> "ModelVersion | None":
        """Return the version CAISI is testing: the one submitted last (the one rule for it)."""
        versions = self._read_with(case)
        if versions is not None:
            submitted = [v for v in versions if v.submitted_at is not None]
            return max(submitted, key=lambda v: (v.submitted_at, v.pk), default=None)
        return self.filter(case=case).submitted().first()

    def revision_pending(self, case) -> "ModelVersion | None":
        """Return the revised version the company is preparing (recorded, not yet submitted)."""
        versions = self._read_with(case)
        if versions is not None:
            pending = [v for v in versions if v.submitted_at is None]
            return max(pending, key=lambda v: (v.created_at, v.pk), default=None)
        return self.filter(case=case).pending().order_by("-created_at", "-pk").first()


class ModelVersion(models.Model):
    """One version of the model under review, pinned by VCS reference and digest.

    Once submitted a version is frozen; a revision is a new row, so what CAISI
    tested stays on record.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="versions")
    label = models.CharField(max_length=100, help_text="For example v1.0-rc2.")
    vcs_reference = models.CharField(
        "VCS reference", max_length=200, help_text="Commit hash or tag of the reviewed code."
    )
    artifact_sha256 = models.CharField("artifact SHA-256", max_length=64, blank=True)
    container_image = models.CharField(
        max_length=300, blank=True, help_text="Image reference with digest, e.g. repo@sha256:…"
    )
    packaging = models.CharField(
        max_length=32,
        choices=Packaging.choices,
        blank=True,
        help_text="How this version is packaged for evaluation.",
    )
    changelog = models.TextField(blank=True)
    submitted_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the version is submitted; then it is frozen."
    )
    # A revised version's documentation: the company either uploads documents
    # for it or says, in one explicit step, that the earlier ones still hold.
    documentation_carried_forward_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["case", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.label} ({self.vcs_reference})"

    @property
    def digest(self) -> str:
        """The digest the company declared for this version ("sha256:<hex>"), or ""."""
        return as_digest(self.artifact_sha256) or as_digest(self.image_sha256)

    @property
    def image_sha256(self) -> str:
        if "@sha256:" in self.container_image:
            return self.container_image.rsplit("@sha256:", 1)[1]
        return ""

    @property
    def is_frozen(self) -> bool:
        return self.submitted_at is not None


class AccessMethod(models.TextChoices):
    WEIGHTS_UPLOAD = "weights_upload", "Secure upload of weights"
    API_ENDPOINT = "api_endpoint", "API endpoint"
    CONTAINER_REGISTRY = "container_registry", "Container image"


class AccessGrant(models.Model):
    """How CAISI reaches one version of the model (step 3)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="access_grants")
    # The version this grant reaches: access to one version is no access to another.
    model_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_grants",
    )
    method = models.CharField(max_length=32, choices=AccessMethod.choices)
    endpoint_url = models.URLField(
        blank=True, help_text="API endpoint or registry address; https only."
    )
    instructions = models.TextField(blank=True)
    # Fernet token (see submissions/crypto.py); never the plaintext.
    credentials_encrypted = models.TextField(blank=True, editable=False)
    nda_reference = models.CharField("NDA reference", max_length=200, blank=True)
    nda_signed_on = models.DateField("NDA signed on", null=True, blank=True)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    checksum_verified = models.BooleanField(default=False)
    # The uploaded weights, for the secure-upload method.
    artifact = models.FileField(upload_to="artifacts/", blank=True, max_length=300)
    artifact_original_name = models.CharField(max_length=255, blank=True)
    artifact_size = models.PositiveBigIntegerField(default=0)
    artifact_sha256 = models.CharField("artifact SHA-256", max_length=64, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoke_reason = models.TextField(blank=True)
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

    def is_ready(self) -> bool:
        """Whether CAISI can use this grant: uploaded weights must hash to the declared digest.

        Read each time, not stored: a version still being prepared may have its
        declared digest corrected after its weights arrived.
        """
        if self.method != AccessMethod.WEIGHTS_UPLOAD:
            return True
        return bool(
            self.checksum_verified
            and self.model_version is not None
            and self.artifact_sha256
            and self.artifact_sha256 == self.model_version.artifact_sha256
        )

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)

    @property
    def has_nda(self) -> bool:
        return bool(self.nda_reference and self.nda_signed_on)


class WeightsUpload(models.Model):
    """Weights arriving in pieces (the tus protocol) until they are whole, refused or expired.

    The bytes received so far sit in a partial file of their own (see
    submissions/resumable.py); the row says whose they are and how far they
    got. A finished upload becomes the grant's artifact and its row goes; so
    does one whose digest does not match, or one left unfinished past
    `expires_at`.
    """

    # The id is the upload's address: random, so one upload cannot be guessed from another.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    grant = models.ForeignKey(AccessGrant, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    length = models.PositiveBigIntegerField()
    received = models.PositiveBigIntegerField(default=0)
    filename = models.CharField(max_length=255)
    # The digest the company declares with the upload; the whole file must hash to it.
    expected_sha256 = models.CharField("expected SHA-256", max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="weightsupload_expiry")]

    def __str__(self) -> str:
        return f"{self.filename}: {self.received} of {self.length} bytes"


class Verification(models.TextChoices):
    """How CAISI knows the digest a statement certifies."""

    RECEIVED_WEIGHTS = "received_weights", "SHA-256 computed by CAISI on the weights it received"
    CONTAINER_DIGEST = "container_digest", "Container image pulled by its digest"
    ENDPOINT_ONLY = "endpoint_only", "Endpoint access only: the digest was not verified by CAISI"


@dataclass(frozen=True)
class VersionAccess:
    """What CAISI can reach of one version, and what that tells it about the version's digest."""

    grant: AccessGrant | None
    verification: str = ""
    verified_sha256: str = ""
    problems: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        return self.grant is not None

    @property
    def verified_digest(self) -> str:
        return as_digest(self.verified_sha256)


# The strongest evidence first: weights CAISI hashed, an image pulled by digest, an endpoint.
_EVIDENCE_ORDER = (
    AccessMethod.WEIGHTS_UPLOAD,
    AccessMethod.CONTAINER_REGISTRY,
    AccessMethod.API_ENDPOINT,
)


def version_access(version: ModelVersion, grants=None, at=None) -> VersionAccess:
    """Return the access CAISI holds to this exact version (the one rule for it).

    A grant counts only when it is linked to the version, live, and usable:
    uploaded weights whose SHA-256 CAISI computed equal the digest the version
    declares, a container registry for a version pinned by image digest, or
    an endpoint (which tells CAISI nothing about the digest).
    """
    if grants is None:
        grants = version.access_grants.all()
    mine = [g for g in grants if g.model_version_id == version.pk]
    live = [g for g in mine if g.is_live(at)]
    label = version.label
    if not mine:
        return VersionAccess(
            grant=None, problems=(f"No model access is recorded for version {label}.",)
        )
    if not live:
        return VersionAccess(
            grant=None,
            problems=(f"No access grant for version {label} is live: each is revoked or expired.",),
        )
    problems = []
    for method in _EVIDENCE_ORDER:
        for grant in (g for g in live if g.method == method):
            if method == AccessMethod.WEIGHTS_UPLOAD:
                if grant.is_ready():
                    return VersionAccess(
                        grant, Verification.RECEIVED_WEIGHTS, grant.artifact_sha256
                    )
                if not grant.checksum_verified:
                    problems.append(
                        f"The uploaded weights' checksum has not been verified for version {label}."
                    )
                else:
                    problems.append(
                        f"The weights received for version {label} hash to "
                        f"sha256:{grant.artifact_sha256}, not the declared {version.digest}."
                    )
            elif method == AccessMethod.CONTAINER_REGISTRY:
                if version.image_sha256:
                    return VersionAccess(grant, Verification.CONTAINER_DIGEST, version.image_sha256)
                problems.append(
                    f"Version {label} names no container image digest for its registry access."
                )
            else:
                return VersionAccess(grant, Verification.ENDPOINT_ONLY, "")
    return VersionAccess(grant=None, problems=tuple(dict.fromkeys(problems)))


class DocumentKind(models.TextChoices):
    MODEL_CARD = "model_card", "Model card"
    SAFETY_REPORT = "safety_report", "Safety report"
    DEPLOYMENT_PLAN = "deployment_plan", "Deployment plan"
    RISK_MITIGATION = "risk_mitigation", "Risk mitigation strategy"
    # Filed after release, as a clearance's conditions ask (incidents.services).
    MONITORING_REPORT = "monitoring_report", "Post-deployment monitoring report"
    OTHER = "other", "Other"


# What the documentation package's upload offers: a monitoring report is filed
# against the report it answers, never as a loose document.
PACKAGE_DOCUMENT_KINDS = [
    (value, label) for value, label in DocumentKind.choices if value != "monitoring_report"
]

REQUIRED_DOCUMENT_KINDS = (
    DocumentKind.MODEL_CARD,
    DocumentKind.SAFETY_REPORT,
    DocumentKind.DEPLOYMENT_PLAN,
    DocumentKind.RISK_MITIGATION,
)


class SafetyReportType(models.TextChoices):
    RED_TEAMING = "red_teaming", "Red-teaming"
    BIAS_AUDIT = "bias_audit", "Bias audit"
    STRESS_TEST = "stress_test", "Stress test"
    OTHER = "other", "Other"


class DocumentState(models.TextChoices):
    SUBMITTED = "submitted", "Awaiting review"
    ACCEPTED = "accepted", "Accepted"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"


def latest_of_each_kind(documents) -> dict[str, "Document"]:
    """Return the newest version of each kind among these documents (the one rule for it)."""
    latest: dict[str, Document] = {}
    for doc in sorted(documents, key=lambda d: (d.kind, -d.version_number)):
        latest.setdefault(doc.kind, doc)
    return latest


def revision_documentation_problems(version: ModelVersion, documents) -> list[str]:
    """Return what a revised version's documentation still lacks before it is resubmitted.

    Each required document must describe this version (replaced), or the
    company must have said the earlier package still holds (carried forward).
    """
    latest = latest_of_each_kind(documents)
    carried = version.documentation_carried_forward_at is not None
    problems = []
    for kind in REQUIRED_DOCUMENT_KINDS:
        doc = latest.get(kind)
        if doc is None:
            problems.append(f"The {kind.label.lower()} is missing.")
        elif doc.model_version_id != version.pk and not carried:
            problems.append(
                f"The {kind.label.lower()} describes an earlier version: upload one for "
                f"{version.label}, or confirm that the earlier documentation still holds."
            )
    return problems


class DocumentQuerySet(models.QuerySet):
    def latest_per_kind(self) -> dict[str, "Document"]:
        """Return the newest version of each kind, read in one query (none when prefetched)."""
        return latest_of_each_kind(self)


class Document(models.Model):
    """One uploaded document of the documentation package (step 4).

    A new upload of the same kind is a new version; earlier versions stay.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=32, choices=DocumentKind.choices)
    report_type = models.CharField(
        "safety report type", max_length=32, choices=SafetyReportType.choices, blank=True
    )
    model_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        help_text="The model version this document describes.",
    )
    title = models.CharField(max_length=200, blank=True)
    version_number = models.PositiveIntegerField(default=1)
    file = models.FileField(upload_to="documents/", blank=True, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    # The model card check: sections a reviewer needs that the card lacks, why
    # parts of it could not be read, and the results it reports (model-index).
    card_missing_sections = models.JSONField(default=list, blank=True)
    card_problems = models.JSONField(default=list, blank=True)
    card_self_reported = models.JSONField(default=list, blank=True)
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

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["case", "kind", "-version_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "version_number"], name="document_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version_number}"

    @property
    def display_title(self) -> str:
        return self.title or self.original_name or self.get_kind_display()


class PracticeStatus(models.TextChoices):
    IMPLEMENTED = "implemented", "Implemented"
    PARTIAL = "partial", "Partly implemented"
    PLANNED = "planned", "Planned"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class ChecklistEntry(models.Model):
    """The company's answer for one deployment practice (see submissions/checklist.py)."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="checklist_entries"
    )
    practice = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=PracticeStatus.choices)
    evidence_document = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "practice"]
        constraints = [
            models.UniqueConstraint(fields=["case", "practice"], name="one_answer_per_practice")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.practice}: {self.status}"
