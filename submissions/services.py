"""Every write of the company's submission: versions, access, documents, checklist.

Each function is one use case, called by views, the demo steps and commands
alike. Files are streamed to storage before the database transaction opens
(a large upload must not hold the case row locked) and removed again if the
transaction does not commit.
"""

import datetime as dt
import re
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Role
from cases import access
from cases.models import Case
from cases.services import record_event
from cases.status import Status
from core import crypto
from core.errors import ActionRefused, BadInput, CaseNotFound, NotAllowed
from core.uploads import name_problem
from submissions import resumable
from submissions.checklist import PRACTICES
from submissions.modelcard import CardCheck, check_model_card
from submissions.models import (
    AccessGrant,
    AccessMethod,
    ChecklistEntry,
    Document,
    DocumentKind,
    DocumentState,
    ModelVersion,
    PracticeStatus,
    SafetyReportType,
    WeightsUpload,
    normalize_image_reference,
    normalize_sha256,
)
from submissions.policy import can_take_model_access
from submissions.uploads import (
    StoredFile,
    UploadRefused,
    display_name,
    document_type,
    read_text,
    store_stream,
)

SHA256 = re.compile(r"^[0-9a-f]{64}$")
IMAGE_WITH_DIGEST = re.compile(r"^[\w.\-/:]+@sha256:[0-9a-f]{64}$")


# --- shared checks ---------------------------------------------------------------


def _lock_for_contribution(case: Case, actor, *, revision: bool = False) -> Case:
    """Lock the case row and check the company may still add material to it."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    _check_contribution(locked, actor, revision=revision)
    return locked


def _check_contribution(case: Case, actor, *, revision: bool = False) -> None:
    if not access.can_view(actor, case):
        raise CaseNotFound(case.number)
    if actor.role != Role.LIAISON:
        raise NotAllowed("Only the company's liaison adds versions, access and documents.")
    # A cleared model may come back with a revised version (resubmit), and files
    # the monitoring reports its clearance asks for; nothing else is added to it.
    if not case.is_open and not (revision and case.status == Status.CLEARED):
        raise ActionRefused(
            f"The case is {case.get_status_display().lower()}: nothing more can be added to it."
        )


def _preparing_revision(case: Case) -> bool:
    """Whether a revised version is being prepared: a cleared case then takes its material."""
    return ModelVersion.objects.revision_pending(case) is not None


@contextmanager
def _removed_unless_committed(stored_name: str):
    """Delete a stored file if the block fails, so no file outlives a refused record."""
    try:
        yield
    except BaseException:
        default_storage.delete(stored_name)
        raise


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- model versions ----------------------------------------------------------------


def _version_problems(
    *, label: str, vcs_reference: str, artifact_sha256: str, container_image: str
) -> list[str]:
    problems = []
    if _blank(label):
        problems.append("Give the version a label, for example v1.0-rc2.")
    if _blank(vcs_reference):
        problems.append("Give the VCS reference (a commit hash or tag) of this version.")
    if artifact_sha256 and not SHA256.match(artifact_sha256):
        problems.append(
            "The artifact SHA-256 must be 64 hexadecimal characters (a sha256: prefix is fine)."
        )
    if container_image and not IMAGE_WITH_DIGEST.match(container_image):
        problems.append(
            "The container image must be pinned by digest: registry/name@sha256:<64 hex>."
        )
    return problems


def add_version(
    *,
    case: Case,
    actor,
    label: str,
    vcs_reference: str,
    artifact_sha256: str = "",
    container_image: str = "",
    packaging: str = "",
    changelog: str = "",
) -> ModelVersion:
    """Record a model version; after submission a revision is always a new version."""
    artifact_sha256 = normalize_sha256(artifact_sha256)
    container_image = normalize_image_reference(container_image)
    problems = _version_problems(
        label=label,
        vcs_reference=vcs_reference,
        artifact_sha256=artifact_sha256,
        container_image=container_image,
    )
    if problems:
        raise BadInput(problems)
    with transaction.atomic():
        locked = _lock_for_contribution(case, actor, revision=True)
        if locked.versions.filter(label=label.strip()).exists():
            raise BadInput(f"A version labelled “{label.strip()}” is already recorded.")
        version = ModelVersion.objects.create(
            case=locked,
            label=label.strip(),
            vcs_reference=vcs_reference.strip(),
            artifact_sha256=artifact_sha256,
            container_image=container_image,
            packaging=packaging,
            changelog=changelog,
            created_by=actor,
        )
        record_event(
            case=locked,
            actor=actor,
            verb="version_added",
            details={"label": version.label, "vcs_reference": version.vcs_reference},
        )
    return version


VERSION_EDITABLE = (
    "label",
    "vcs_reference",
    "artifact_sha256",
    "container_image",
    "packaging",
    "changelog",
)


def update_version(*, version: ModelVersion, actor, data: dict[str, Any]) -> ModelVersion:
    """Correct a version not yet submitted; a submitted version never changes."""
    with transaction.atomic():
        _lock_for_contribution(version.case, actor)
        locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if locked.is_frozen:
            raise ActionRefused(
                f"Version {locked.label} was submitted to CAISI and is frozen; "
                "add a new version for the revision."
            )
        merged = {f: data.get(f, getattr(locked, f)) for f in VERSION_EDITABLE}
        merged["artifact_sha256"] = normalize_sha256(merged["artifact_sha256"])
        merged["container_image"] = normalize_image_reference(merged["container_image"])
        problems = _version_problems(
            **{
                k: merged[k]
                for k in ("label", "vcs_reference", "artifact_sha256", "container_image")
            }
        )
        if problems:
            raise BadInput(problems)
        changed = [f for f in VERSION_EDITABLE if getattr(locked, f) != merged[f]]
        if not changed:
            return locked
        for f in changed:
            setattr(locked, f, merged[f])
        locked.save(update_fields=changed)
        record_event(
            case=locked.case,
            actor=actor,
            verb="version_updated",
            details={"label": locked.label, "fields": changed},
        )
    return locked


# --- model access (step 3) -----------------------------------------------------------


def grant_access(
    *,
    case: Case,
    actor,
    method: str,
    endpoint_url: str = "",
    instructions: str = "",
    credentials: str = "",
    nda_reference: str = "",
    nda_signed_on: dt.date | None = None,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    model_version: ModelVersion | None = None,
) -> AccessGrant:
    """Record how CAISI reaches one version of the model; credentials are stored encrypted.

    Without a named version the grant reaches the version recorded last (the
    one the company is preparing or CAISI is testing).
    """
    valid_from = valid_from or timezone.now()
    problems = []
    if model_version is not None and model_version.case_id != case.pk:
        problems.append("That model version belongs to another case.")
    if method not in AccessMethod.values:
        problems.append("Choose how CAISI will reach the model.")
    if endpoint_url and not endpoint_url.lower().startswith("https://"):
        problems.append("The endpoint URL must start with https:// — plain http is not accepted.")
    if method in (AccessMethod.API_ENDPOINT, AccessMethod.CONTAINER_REGISTRY) and not endpoint_url:
        problems.append("Give the https address of the API endpoint or container registry.")
    if valid_until is None:
        problems.append("Set when this access expires.")
    elif valid_until <= valid_from:
        problems.append("The access must expire after it starts.")
    elif valid_until <= timezone.now():
        problems.append("The expiry is already in the past.")
    if nda_signed_on and nda_signed_on > timezone.localdate():
        problems.append("The NDA signing date cannot be in the future.")
    if problems:
        raise BadInput(problems)
    with transaction.atomic():
        locked = _lock_for_contribution(case, actor, revision=_preparing_revision(case))
        version = model_version or locked.versions.order_by("-created_at", "-pk").first()
        if version is None:
            raise BadInput("Record the model version first: access is granted to one version.")
        grant = AccessGrant.objects.create(
            case=locked,
            model_version=version,
            method=method,
            endpoint_url=endpoint_url,
            instructions=instructions,
            credentials_encrypted=crypto.encrypt(credentials),
            nda_reference=nda_reference.strip(),
            nda_signed_on=nda_signed_on,
            valid_from=valid_from,
            valid_until=valid_until,
            created_by=actor,
        )
        record_event(
            case=locked,
            actor=actor,
            verb="access_granted",
            details={
                "grant": grant.pk,
                "version": version.label,
                "method": method,
                "valid_until": valid_until,
                "nda_reference": grant.nda_reference,
                "with_credentials": bool(credentials),
            },
        )
    return grant


def revoke_access(*, grant: AccessGrant, actor, reason: str, confirmed: bool) -> AccessGrant:
    """Revoke a grant, with a reason and the liaison's confirmation; CAISI hears of it at once.

    The company may do so at any time, even mid-testing; the reason is on the
    case page and the timeline.
    """
    reason = reason.strip()
    problems = []
    if not reason:
        problems.append("Give the reason for revoking CAISI's access.")
    if not confirmed:
        problems.append("Confirm that CAISI's access ends now, whatever testing is under way.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=grant.case_id)
        if not access.can_view(actor, case):
            raise CaseNotFound(case.number)
        if actor.role != Role.LIAISON:
            raise NotAllowed("Only the company's liaison can revoke its access grant.")
        locked = AccessGrant.objects.select_for_update().get(pk=grant.pk)
        if locked.revoked_at is not None:
            return locked
        if problems:
            raise BadInput(problems)
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.revoke_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        record_event(
            case=case,
            actor=actor,
            verb="access_revoked",
            details={"grant": locked.pk, "method": locked.method, "reason": reason},
        )
    return locked


def _note_custody(*, case: Case, actor, verb: str, details: dict[str, Any]) -> None:
    """Put CAISI's use of the company's material on the timeline the company sees."""
    if not actor.is_caisi_staff:
        return  # the company's own downloads are its own business
    record_event(
        case=case,
        actor=actor,
        verb=verb,
        details={"role": Role(actor.role).label, **details},
    )


def reveal_credentials(*, grant: AccessGrant, actor) -> str:
    """Return the decrypted credentials of a live grant; the company sees the reveal."""
    case = grant.case
    if not access.can_view(actor, case):
        raise CaseNotFound(case.number)
    if not can_take_model_access(actor, case):
        raise NotAllowed("Only a case manager or an assigned evaluator can reveal credentials.")
    if not grant.credentials_encrypted:
        raise BadInput("This grant holds no credentials.")
    with transaction.atomic():
        locked = AccessGrant.objects.select_for_update().get(pk=grant.pk)
        if not locked.is_live():
            raise ActionRefused(
                "This grant is revoked or expired: its credentials are no longer revealed."
            )
        plaintext = crypto.decrypt(locked.credentials_encrypted)
        _note_custody(
            case=case,
            actor=actor,
            verb="credentials_revealed",
            details={"grant": locked.pk, "method": locked.method},
        )
    return plaintext


def take_weights(*, grant: AccessGrant, actor):
    """Return the uploaded weights of a grant to download; the company sees who took them.

    CAISI takes them only from a live grant, and only its case managers and the
    case's evaluators; the company may always fetch its own upload.
    """
    case = grant.case
    if not access.can_view(actor, case):
        raise CaseNotFound(case.number)
    if actor.is_caisi_staff and not can_take_model_access(actor, case):
        raise NotAllowed("Only a case manager or an assigned evaluator can take the weights.")
    if not grant.artifact:
        raise CaseNotFound(case.number)
    if actor.is_caisi_staff and not grant.is_live():
        raise ActionRefused("This grant is revoked or expired: its weights are no longer served.")
    _note_custody(
        case=case,
        actor=actor,
        verb="weights_downloaded",
        details={"grant": grant.pk, "file": grant.artifact_original_name},
    )
    return grant.artifact


def take_document(*, document: Document, actor):
    """Return a document's file to download; the company sees which CAISI role took it."""
    case = document.case
    if not access.can_view(actor, case) or not document.file:
        raise CaseNotFound(case.number)
    _note_custody(
        case=case,
        actor=actor,
        verb="document_downloaded",
        details={"document": document.pk, "file": document.original_name},
    )
    return document.file


def _check_weights(
    *, grant: AccessGrant, actor, original_name: str, expected_sha256: str
) -> tuple[ModelVersion, bool]:
    """Check weights may be sent to this grant; return the version and whether it is a revision.

    The digest the company gives must be the one the grant's version declares.
    """
    expected = normalize_sha256(expected_sha256)
    if not SHA256.match(expected):
        raise BadInput("Give the file's expected SHA-256 (64 hexadecimal characters).")
    if grant.method != AccessMethod.WEIGHTS_UPLOAD:
        raise BadInput("Weights can only be uploaded to a secure-upload grant.")
    problem = name_problem(original_name)
    if problem:
        raise BadInput(problem)
    revision = _preparing_revision(grant.case)
    _check_contribution(grant.case, actor, revision=revision)
    if grant.revoked_at is not None:
        raise ActionRefused("This grant is revoked; record a new one.")
    version = grant.model_version
    if version is None:
        raise ActionRefused(
            "This grant names no model version; record a new grant for the version "
            "whose weights you are sending."
        )
    if not version.artifact_sha256:
        raise BadInput(
            f"Version {version.label} declares no artifact SHA-256; record the weights' "
            "digest on the version before uploading them."
        )
    if expected != version.artifact_sha256:
        raise BadInput(
            f"The SHA-256 given with the upload (sha256:{expected}) is not the digest "
            f"version {version.label} declares ({version.digest}); nothing was kept."
        )
    return version, revision


def _attach_weights(
    *,
    grant: AccessGrant,
    actor,
    version: ModelVersion,
    revision: bool,
    stored: StoredFile,
    original_name: str,
) -> AccessGrant:
    """Make stored weights, already hashed to the version's digest, the grant's artifact."""
    with _removed_unless_committed(stored.name), transaction.atomic():
        case = _lock_for_contribution(grant.case, actor, revision=revision)
        locked = AccessGrant.objects.select_for_update().get(pk=grant.pk)
        if locked.model_version.artifact_sha256 != stored.sha256:
            raise BadInput(
                f"Version {version.label}'s declared digest changed during the upload; "
                "nothing was kept."
            )
        previous = locked.artifact.name
        locked.artifact.name = stored.name
        locked.artifact_original_name = display_name(original_name)
        locked.artifact_size = stored.size
        locked.artifact_sha256 = stored.sha256
        locked.checksum_verified = True
        locked.save(
            update_fields=[
                "artifact",
                "artifact_original_name",
                "artifact_size",
                "artifact_sha256",
                "checksum_verified",
            ]
        )
        record_event(
            case=case,
            actor=actor,
            verb="weights_uploaded",
            details={
                "grant": locked.pk,
                "version": version.label,
                "sha256": stored.sha256,
                "size": stored.size,
            },
        )
        if previous:
            transaction.on_commit(lambda: default_storage.delete(previous))
    return locked


def upload_artifact(
    *, grant: AccessGrant, actor, file, original_name: str, expected_sha256: str
) -> AccessGrant:
    """Store uploaded weights for a secure-upload grant.

    The bytes must hash to the digest the grant's version declares (and to
    the one the company gives with the upload); otherwise nothing is kept and
    the grant stays unusable.
    """
    version, revision = _check_weights(
        grant=grant, actor=actor, original_name=original_name, expected_sha256=expected_sha256
    )
    try:
        stored = store_stream(file, folder="artifacts", expected_sha256=version.artifact_sha256)
    except UploadRefused as refusal:
        raise BadInput(
            f"{refusal} The weights must be exactly those version {version.label} declares."
        ) from None
    return _attach_weights(
        grant=grant,
        actor=actor,
        version=version,
        revision=revision,
        stored=stored,
        original_name=original_name,
    )


# --- resumable weight uploads (the tus protocol; the bytes in submissions/resumable.py) --


class UploadOffsetConflict(ActionRefused):
    """A piece was sent for another offset than the one the upload has reached."""

    def __init__(self, offset: int):
        self.offset = offset
        super().__init__(
            f"This upload has received {offset} bytes; send the piece from that offset "
            "(ask with HEAD)."
        )


def _upload_expiry():
    return timezone.now() + dt.timedelta(hours=settings.RESUMABLE_UPLOAD_EXPIRY_HOURS)


def start_weights_upload(
    *, grant: AccessGrant, actor, length: int, filename: str, expected_sha256: str
) -> WeightsUpload:
    """Open a resumable upload of weights for a secure-upload grant, checked as a whole one is."""
    _check_weights(
        grant=grant, actor=actor, original_name=filename, expected_sha256=expected_sha256
    )
    if length <= 0:
        raise BadInput("The file is empty.")
    upload = WeightsUpload.objects.create(
        grant=grant,
        created_by=actor,
        length=length,
        filename=display_name(filename),
        expected_sha256=normalize_sha256(expected_sha256),
        expires_at=_upload_expiry(),
    )
    resumable.create(upload.pk)
    return upload


def receive_weights(
    *,
    upload: WeightsUpload,
    actor,
    offset: int,
    stream,
    length: int,
    checksum: resumable.PieceChecksum | None = None,
) -> AccessGrant | None:
    """Append one piece of a resumable upload; with the last, the weights become the grant's.

    Returns the grant once the file is whole and hashes to the version's
    digest; None while pieces are missing. A whole file with another digest
    is removed, the upload with it, and refused (the grant stays unusable).
    """
    if upload.created_by_id != actor.pk:
        raise CaseNotFound(upload.grant.case.number)
    if offset + length > upload.length:
        raise BadInput(
            f"The piece runs to byte {offset + length}, past the upload's length of "
            f"{upload.length} bytes."
        )
    try:
        with resumable.writing(upload.pk) as part:
            if part.offset != offset:
                raise UploadOffsetConflict(part.offset)
            appended = part.append(stream, limit=length, checksum=checksum)
            upload.received = appended.offset
            upload.expires_at = _upload_expiry()
            WeightsUpload.objects.filter(pk=upload.pk).update(
                received=upload.received, expires_at=upload.expires_at
            )
            if appended.offset < upload.length:
                return None
            return _finish_weights_upload(upload=upload, actor=actor, sha256=appended.sha256)
    except FileNotFoundError:
        upload.delete()  # its file is gone (removed meanwhile): nothing to resume
        raise CaseNotFound(upload.grant.case.number) from None


def _finish_weights_upload(*, upload: WeightsUpload, actor, sha256: str) -> AccessGrant:
    grant = upload.grant
    try:
        version, revision = _check_weights(
            grant=grant,
            actor=actor,
            original_name=upload.filename,
            expected_sha256=upload.expected_sha256,
        )
        if sha256 != version.artifact_sha256:
            raise BadInput(
                f"The file's SHA-256 is {sha256}, not the expected {version.artifact_sha256}; "
                f"it was not kept. The weights must be exactly those version {version.label} "
                "declares; start the upload again with the right file."
            )
    except ActionRefused:
        resumable.remove(upload.pk)
        upload.delete()
        raise
    name = resumable.store(upload.pk, folder="artifacts")
    attached = _attach_weights(
        grant=grant,
        actor=actor,
        version=version,
        revision=revision,
        stored=StoredFile(name=name, size=upload.length, sha256=sha256),
        original_name=upload.filename,
    )
    upload.delete()
    return attached


def cancel_weights_upload(*, upload: WeightsUpload, actor) -> None:
    """Remove an unfinished upload and the bytes it holds (the tus termination extension)."""
    if upload.created_by_id != actor.pk:
        raise CaseNotFound(upload.grant.case.number)
    try:
        with resumable.writing(upload.pk):
            resumable.remove(upload.pk)
    except FileNotFoundError:
        pass
    upload.delete()


def remove_expired_weights_uploads(*, now: dt.datetime | None = None) -> int:
    """Remove the uploads left unfinished past their expiry, and partial files of none.

    An upload still being written is left for the next sweep.
    """
    now = now or timezone.now()
    removed = 0
    for upload in WeightsUpload.objects.filter(expires_at__lte=now).iterator():
        try:
            with resumable.writing(upload.pk):
                resumable.remove(upload.pk)
        except resumable.Busy:
            continue
        except FileNotFoundError:
            pass
        upload.delete()
        removed += 1
    # A partial file whose row never committed (or was deleted by hand), once old.
    known = {str(pk) for pk in WeightsUpload.objects.values_list("pk", flat=True)}
    cutoff = (now - dt.timedelta(hours=settings.RESUMABLE_UPLOAD_EXPIRY_HOURS)).timestamp()
    for upload_id in resumable.stored_ids():
        path = resumable.partial_path(upload_id)
        if upload_id not in known and path.exists() and path.stat().st_mtime < cutoff:
            resumable.remove(upload_id)
            removed += 1
    return removed


# --- documentation (step 4) -------------------------------------------------------------


def upload_document(
    *,
    case: Case,
    actor,
    kind: str,
    file,
    original_name: str,
    title: str = "",
    report_type: str = "",
    model_version: ModelVersion | None = None,
) -> Document:
    """Store a document of the package as the next version of its kind."""
    problems = []
    if kind not in DocumentKind.values:
        problems.append("Choose what kind of document this is.")
    if kind == DocumentKind.SAFETY_REPORT and report_type not in SafetyReportType.values:
        problems.append("Say what the safety report covers: red-teaming, bias audit, ….")
    if model_version is not None and model_version.case_id != case.pk:
        problems.append("That model version belongs to another case.")
    problem = name_problem(original_name)
    if problem:
        problems.append(problem)
    if problems:
        raise BadInput(problems)
    revision = _preparing_revision(case) or kind == DocumentKind.MONITORING_REPORT
    _check_contribution(case, actor, revision=revision)
    name = display_name(original_name)
    try:
        content_type = document_type(name, file)
        stored = store_stream(file, folder="documents")
    except UploadRefused as refusal:
        raise BadInput(str(refusal)) from None
    card = None
    if kind == DocumentKind.MODEL_CARD and content_type == "text/markdown":
        card = check_model_card(read_text(file))
    elif kind == DocumentKind.MODEL_CARD:
        card = CardCheck(
            problems=[
                "The model card was not checked: only a Markdown (.md) card can be read for "
                "its sections. A reviewer reads this one by hand."
            ]
        )
    with _removed_unless_committed(stored.name), transaction.atomic():
        locked = _lock_for_contribution(case, actor, revision=revision)
        last = locked.documents.filter(kind=kind).aggregate(n=Max("version_number"))["n"] or 0
        document = Document.objects.create(
            case=locked,
            kind=kind,
            report_type=report_type if kind == DocumentKind.SAFETY_REPORT else "",
            model_version=model_version or locked.versions.order_by("-created_at").first(),
            title=title.strip(),
            version_number=last + 1,
            file=stored.name,
            original_name=name,
            content_type=content_type,
            size=stored.size,
            sha256=stored.sha256,
            card_missing_sections=card.missing if card else [],
            card_problems=card.problems if card else [],
            card_self_reported=card.self_reported if card else [],
            uploaded_by=actor,
        )
        record_event(
            case=locked,
            actor=actor,
            verb="document_uploaded",
            details={
                "kind": kind,
                "version": document.version_number,
                "name": name,
                "sha256": stored.sha256,
            },
        )
    return document


def carry_documentation_forward(*, version: ModelVersion, actor) -> ModelVersion:
    """Confirm that the documentation already on file holds for this revised version."""
    with transaction.atomic():
        case = _lock_for_contribution(version.case, actor, revision=True)
        locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if locked.is_frozen:
            raise ActionRefused(
                f"Version {locked.label} was already submitted; its documentation is on record."
            )
        if locked.documentation_carried_forward_at is not None:
            return locked
        locked.documentation_carried_forward_at = timezone.now()
        locked.save(update_fields=["documentation_carried_forward_at"])
        record_event(
            case=case,
            actor=actor,
            verb="documentation_carried_forward",
            details={"version": locked.label},
        )
    return locked


def review_document(*, document: Document, actor, accept: bool, comment: str = "") -> Document:
    """Accept a document, or ask for changes with a comment the company sees."""
    case = document.case
    if not access.can_view(actor, case):
        raise CaseNotFound(case.number)
    if actor.role != Role.CASE_MANAGER:
        raise NotAllowed("Only a case manager reviews the documentation.")
    if not accept and _blank(comment):
        raise BadInput("Say what should change: the comment is shown to the company.")
    with transaction.atomic():
        locked_case = Case.objects.select_for_update().get(pk=case.pk)
        after_release = (
            document.kind == DocumentKind.MONITORING_REPORT and locked_case.status == Status.CLEARED
        )
        if not locked_case.is_open and not after_release:
            raise ActionRefused("The case is no longer open.")
        locked = Document.objects.select_for_update().get(pk=document.pk)
        locked.state = DocumentState.ACCEPTED if accept else DocumentState.CHANGES_REQUESTED
        locked.review_comment = comment.strip()
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["state", "review_comment", "reviewed_by", "reviewed_at"])
        record_event(
            case=locked_case,
            actor=actor,
            verb="document_accepted" if accept else "document_changes_requested",
            details={
                "kind": locked.kind,
                "version": locked.version_number,
                "comment": locked.review_comment,
            },
        )
    return locked


# --- the deployment checklist ------------------------------------------------------------


def checklist_answer_problems(
    *, case: Case, key: str, answer: dict[str, Any]
) -> list[tuple[str, str]]:
    """Return what is wrong with one practice's answer: (the part concerned, the words)."""
    practice = PRACTICES.get(key)
    if practice is None:
        return [("practice", f"There is no practice “{key}”.")]
    problems = []
    status = answer.get("status") or ""
    if status and status not in PracticeStatus.values:
        problems.append(("status", f"“{practice.title}”: choose one of the listed answers."))
    # "Not applicable" is a claim CAISI has to be able to weigh: it comes with its reason.
    if status == PracticeStatus.NOT_APPLICABLE and not (answer.get("note") or "").strip():
        problems.append(("note", f"“{practice.title}”: say in the note why it does not apply."))
    document = answer.get("evidence_document")
    if document is not None and document.case_id != case.pk:
        problems.append(
            ("evidence", f"“{practice.title}”: the evidence must be a document of this case.")
        )
    return problems


def record_checklist(*, case: Case, actor, answers: dict[str, dict[str, Any]]) -> int:
    """Save the company's answers for deployment practices; return how many changed.

    `answers` maps a practice key to {"status", "evidence_document", "note"};
    a practice left without a status keeps no answer, and "not applicable"
    needs a note saying why.
    """
    problems = [
        text
        for key, answer in answers.items()
        for _, text in checklist_answer_problems(case=case, key=key, answer=answer)
    ]
    if problems:
        raise BadInput(problems)
    with transaction.atomic():
        locked = _lock_for_contribution(case, actor)
        existing = {e.practice: e for e in ChecklistEntry.objects.filter(case=locked)}
        now = timezone.now()
        changed = []
        for key, answer in answers.items():
            status = answer.get("status") or ""
            document = answer.get("evidence_document")
            note = (answer.get("note") or "").strip()
            entry = existing.get(key)
            if entry is None:
                if status:
                    ChecklistEntry.objects.create(
                        case=locked,
                        practice=key,
                        status=status,
                        evidence_document=document,
                        note=note,
                        updated_by=actor,
                        updated_at=now,
                    )
                    changed.append(key)
                continue
            if not status:
                entry.delete()
                changed.append(key)
                continue
            new = {"status": status, "evidence_document": document, "note": note}
            fields = [f for f, value in new.items() if getattr(entry, f) != value]
            if fields:
                for f in fields:
                    setattr(entry, f, new[f])
                entry.updated_by, entry.updated_at = actor, now
                entry.save(update_fields=[*fields, "updated_by", "updated_at"])
                changed.append(key)
        if changed:
            record_event(
                case=locked,
                actor=actor,
                verb="checklist_updated",
                details={"practices": sorted(changed)},
            )
    return len(changed)
