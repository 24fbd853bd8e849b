"""Writes to clearance statements: issuing, superseding, suspending, reinstating, revoking.

The lifecycle's services (`review.services`) call these inside their
transition, which holds the case row lock; the render task calls
`render_statement_pdf`. A status change never touches the signed PDF: the
verification page tells the live status and its dated history.
"""

import hashlib
import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from cases.models import Case
from cases.services import record_event
from clearance.models import ClearanceStatement, Condition, Scope, StatementStatusChange
from clearance.pdf import render_pdf, sign_pdf
from core import outbox
from core.errors import ActionRefused, BadInput
from core.folding import prefetched
from submissions.models import ModelVersion, version_access

Status = ClearanceStatement.StatementStatus
Change = StatementStatusChange.Change
# The statuses of a statement that still stands: superseding or revoking ends them.
STANDING = (Status.ISSUED, Status.SUSPENDED)
logger = logging.getLogger(__name__)


def _statement_number(case: Case) -> str:
    count = ClearanceStatement.objects.filter(case=case).count()
    return f"{case.number}-S{count + 1}"


def printed_words(choices, keys) -> list[str]:
    """Return the printed words of these choices, in the list's order; refuse unknown ones."""
    keys = list(keys or ())
    unknown = sorted(set(keys) - set(choices.values))
    if unknown:
        raise BadInput(f"Not a choice here: {', '.join(unknown)}.")
    return [choice.label for choice in choices if choice.value in keys]


def draft_statement(
    *,
    case: Case,
    official,
    version: ModelVersion,
    scope_items=(),
    scope: str = "",
    condition_items=(),
    conditions: str = "",
    valid_until=None,
) -> ClearanceStatement:
    """Return the statement as it would be issued now, unsaved: for the preview and the issue.

    It names only the version under test, and certifies the digest CAISI
    verified, and says how; never the one the company merely typed.
    """
    under_test = ModelVersion.objects.under_test(case)
    if under_test is None or version.pk != under_test.pk:
        raise ValueError("A statement names only the version under test.")
    reached = version_access(version)
    if not reached.verified:
        raise ValueError(f"CAISI holds no verified access to version {version.label}.")
    scope_words = printed_words(Scope, scope_items)
    if not scope_words and not scope.strip():
        raise BadInput("Say what the clearance covers: choose at least one scope.")
    return ClearanceStatement(
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
        scope_items=scope_words,
        scope=scope.strip(),
        condition_items=printed_words(Condition, condition_items),
        conditions=conditions.strip(),
        official=official,
        official_name=official.get_full_name() or official.email,
        issued_at=timezone.now(),
        valid_until=valid_until,
    )


@transaction.atomic
def create_statement(
    *, case: Case, official, version: ModelVersion, **content
) -> ClearanceStatement:
    """Create the statement for the version under test, being signed; supersede earlier ones.

    The caller holds the case row lock, so statement numbers stay consecutive.
    The PDF is rendered and signed by a worker once this commits.
    """
    statement = draft_statement(case=case, official=official, version=version, **content)
    statement.save(force_insert=True)
    now = statement.issued_at
    StatementStatusChange.objects.create(
        statement=statement, change=Change.ISSUED, actor=official, at=now
    )
    earlier = case.clearance_statements.filter(status__in=STANDING).exclude(pk=statement.pk)
    _record_change(
        earlier, Change.SUPERSEDED, actor=official, at=now, reason=f"Superseded by {statement}."
    )
    earlier.update(status=Status.SUPERSEDED, status_changed_at=now, superseded_by=statement)

    # Through the outbox: a broker that is down neither fails the clearance nor
    # loses the render, which is published once the broker is back.
    outbox.enqueue(outbox.task("clearance.tasks.render_statement", statement.pk))
    return statement


def _record_change(statements, change: str, *, actor, at, reason: str = "") -> list[str]:
    """Add one history row per statement; return their numbers."""
    rows = [
        StatementStatusChange(statement=s, change=change, actor=actor, at=at, reason=reason)
        for s in statements
    ]
    StatementStatusChange.objects.bulk_create(rows)
    return [row.statement.number for row in rows]


@transaction.atomic
def revoke_statements(*, case: Case, reason: str, actor=None) -> int:
    """Revoke the case's standing statement (valid or suspended); return how many were revoked."""
    now = timezone.now()
    standing = case.clearance_statements.filter(status__in=STANDING)
    _record_change(standing, Change.REVOKED, actor=actor, at=now, reason=reason)
    return standing.update(status=Status.REVOKED, status_changed_at=now, revocation_reason=reason)


def standing_statement(case: Case, status: str) -> ClearanceStatement | None:
    """Return the case's statement in this status that has not expired, if any."""
    read = prefetched(case, "clearance_statements")  # the case page read them with the case
    if read is None:
        statement = (
            case.clearance_statements.filter(status=status).order_by("-issued_at", "-pk").first()
        )
    else:
        statement = max(
            (s for s in read if s.status == status),
            key=lambda s: (s.issued_at, s.pk),
            default=None,
        )
    if statement is None or statement.is_past_validity():
        return None
    return statement


@transaction.atomic
def suspend_statement(*, case: Case, actor, reason: str) -> ClearanceStatement:
    """Suspend the case's valid statement, with the reason; the PDF is left as signed."""
    statement = standing_statement(case, Status.ISSUED)
    if statement is None:
        raise ActionRefused("The case has no valid clearance statement to suspend.")
    return _move(statement, Status.SUSPENDED, Change.SUSPENDED, actor=actor, reason=reason)


@transaction.atomic
def reinstate_statement(*, case: Case, actor, reason: str) -> ClearanceStatement:
    """Put the case's suspended statement back in force, with the reason."""
    statement = standing_statement(case, Status.SUSPENDED)
    if statement is None:
        raise ActionRefused("The case has no suspended clearance statement to reinstate.")
    return _move(statement, Status.ISSUED, Change.REINSTATED, actor=actor, reason=reason)


def _move(statement, status: str, change: str, *, actor, reason: str) -> ClearanceStatement:
    now = timezone.now()
    # Compare-and-swap on the status read: two officials acting at once move it once.
    moved = ClearanceStatement.objects.filter(pk=statement.pk, status=statement.status).update(
        status=status, status_changed_at=now
    )
    if not moved:
        raise ActionRefused(f"Statement {statement.number} changed meanwhile; look again.")
    StatementStatusChange.objects.create(
        statement=statement, change=change, actor=actor, at=now, reason=reason
    )
    statement.refresh_from_db()
    return statement


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


def record_render_failure(*, statement_id: int, error: BaseException) -> None:
    """Note a failed signing attempt on the statement, for the case page to show."""
    ClearanceStatement.objects.without_pdf().filter(pk=statement_id).update(
        render_attempts=F("render_attempts") + 1,
        render_error=f"{type(error).__name__}: {error}"[:500],
    )
