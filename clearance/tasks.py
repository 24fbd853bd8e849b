import logging

from celery import shared_task

from clearance import services
from clearance.pdf import SigningIdentityMissing

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=30)
def render_statement(self, statement_id: int) -> str | None:
    """Render, sign and store one statement's PDF (does nothing once it exists)."""
    try:
        statement = services.render_statement_pdf(statement_id=statement_id)
    except SigningIdentityMissing as missing:
        # Retrying will not help until an operator installs the identity; the
        # sweep picks the statement up again after that.
        logger.error("Statement %s not rendered: %s", statement_id, missing)
        return None
    except Exception as exc:
        raise self.retry(exc=exc) from exc
    return statement.pdf_sha256 if statement else None


@shared_task(acks_late=True)
def render_pending_statements() -> int:
    """Enqueue a render for every statement still without its PDF; return how many."""
    pending = services.statements_to_render()
    for statement_id in pending:
        render_statement.delay(statement_id)
    return len(pending)
