"""Writes to clearance statements: issuing, superseding, revoking, and the signed PDF.

The case lifecycle services (`cases.services.issue_clearance` and
`revoke_clearance`) call the first two inside their transition; the render
task calls `render_statement_pdf`.
"""

import hashlib
import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.utils import timezone

from cases.models import Case
from cases.services import record_event
from clearance.models import ClearanceStatement
from clearance.pdf import render_pdf, sign_pdf
from core import outbox
from submissions.models import ModelVersion, version_access

Status = ClearanceStatement.StatementStatus
logger = logging.getLogger(__name__)


def _statement_number(case: Case) -> str:
    count = ClearanceStatement.objects.filter(case=case).count()
    return f"{case.number}-S{count + 1}"


@transaction.atomic
def create_statement(
    *, case: Case, official, version: ModelVersion, scope: str, conditions: str
) -> ClearanceStatement:
    """Create the statement for the version under test; supersede earlier ones.

    The statement certifies the digest CAISI verified, and says how; never the
    one the company merely typed. The caller holds the case row lock, so
    statement numbers stay consecutive.
    """
    under_test = ModelVersion.objects.under_test(case)
    if under_test is None or version.pk != under_test.pk:
        raise ValueError("A statement names only the version under test.")
    reached = version_access(version)
    if not reached.verified:
        raise ValueError(f"CAISI holds no verified access to version {version.label}.")
    now = timezone.now()
    statement = ClearanceStatement.objects.create(
        number=_statement_number(case),
        case=case,
        model_version=version,
        company_name=case.organization.name,
        model_name=case.model_name,
        version_label=version.label,
        vcs_reference=version.vcs_reference,
        digest=reached.verified_digest,
        digest_verification=reached.verification,
        declared_digest=version.digest,
        scope=scope,
        conditions=conditions,
        official=official,
        official_name=official.get_full_name() or official.email,
        issued_at=now,
    )
    case.clearance_statements.filter(status=Status.ISSUED).exclude(pk=statement.pk).update(
        status=Status.SUPERSEDED, status_changed_at=now, superseded_by=statement
    )

    # Through the outbox: a broker that is down neither fails the clearance nor
    # loses the render, which is published once the broker is back.
    outbox.enqueue(outbox.task("clearance.tasks.render_statement", statement.pk))
    return statement


@transaction.atomic
def revoke_statements(*, case: Case, reason: str) -> int:
    """Revoke the case's valid statement; return how many were revoked."""
    return case.clearance_statements.filter(status=Status.ISSUED).update(
        status=Status.REVOKED, status_changed_at=timezone.now(), revocation_reason=reason
    )


def render_statement_pdf(*, statement_id: int) -> ClearanceStatement | None:
    """Render, sign and store the statement's PDF once; return it, or None if nothing was done.

    The statement row stays locked from the check to the save, so two workers
    never both render it; a worker killed mid-render loses its transaction and
    its lock, writes nothing, and the next attempt starts again from scratch.
    """

    with transaction.atomic():
        try:
            # A savepoint, so a refused lock leaves the transaction usable.
            with transaction.atomic():
                statement = (
                    ClearanceStatement.objects.select_for_update(nowait=True, of=("self",))
                    .select_related("case__organization", "model_version", "official")
                    .without_pdf()
                    .filter(pk=statement_id)
                    .first()
                )
        except DatabaseError:
            logger.info("Statement %s is being rendered by another worker.", statement_id)
            return None
        if statement is None:  # already rendered, or no such statement
            return None
        signed = sign_pdf(render_pdf(statement))
        name = statement.pdf_filename
        # A file under this name without a recorded PDF is a leftover of an
        # attempt whose transaction never committed.
        if default_storage.exists(name):
            default_storage.delete(name)
        stored_name = default_storage.save(name, ContentFile(signed))
        statement.pdf.name = stored_name
        statement.pdf_sha256 = hashlib.sha256(signed).hexdigest()
        statement.pdf_rendered_at = timezone.now()
        statement.save(update_fields=["pdf", "pdf_sha256", "pdf_rendered_at"])
        record_event(
            case=statement.case,
            actor=None,
            verb="statement_signed",
            details={"statement": statement.number, "sha256": statement.pdf_sha256},
        )
    return statement
