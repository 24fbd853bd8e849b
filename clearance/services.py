"""Writes to clearance statements; called by the case lifecycle services."""

from django.db import transaction
from django.utils import timezone

from cases.models import Case

from .models import ClearanceStatement

Status = ClearanceStatement.StatementStatus


def _statement_number(case: Case) -> str:
    count = ClearanceStatement.objects.filter(case=case).count()
    return f"{case.number}-S{count + 1}"


@transaction.atomic
def create_statement(*, case: Case, official, scope: str, conditions: str) -> ClearanceStatement:
    """Create the statement for the case's latest submitted version; supersede earlier ones."""
    version = case.versions.filter(submitted_at__isnull=False).order_by("-submitted_at", "-pk")[0]
    now = timezone.now()
    case.clearance_statements.filter(status=Status.ISSUED).update(
        status=Status.SUPERSEDED, status_changed_at=now
    )
    return ClearanceStatement.objects.create(
        number=_statement_number(case),
        case=case,
        model_version=version,
        scope=scope,
        conditions=conditions,
        official=official,
        issued_at=now,
    )


@transaction.atomic
def revoke_statements(*, case: Case, reason: str) -> int:
    """Revoke the case's valid statement; return how many were revoked."""
    return case.clearance_statements.filter(status=Status.ISSUED).update(
        status=Status.REVOKED, status_changed_at=timezone.now(), revocation_reason=reason
    )
