import logging

from celery import shared_task

from clearance import services
from clearance.apps import STATEMENT_RENDER
from clearance.pdf import SigningIdentityMissing
from core import workrows

logger = logging.getLogger(__name__)


# off_request: on the embedded default too, signing never holds the official's request.
@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=30, off_request=True)
def render_statement(self, statement_id: int) -> str | None:
    """Render, sign and store one statement's PDF (does nothing once it exists).

    A failed attempt is noted on the statement, for the case page, and retried;
    after the last retry the sweep hands it to a worker again on its next round.
    """
    try:
        statement = services.render_statement_pdf(statement_id=statement_id)
    except SigningIdentityMissing as missing:
        # Retrying will not help until an operator installs the identity; the
        # sweep picks the statement up again after that.
        services.record_render_failure(statement_id=statement_id, error=missing)
        logger.error("Statement %s not rendered: %s", statement_id, missing)
        return None
    except Exception as exc:
        services.record_render_failure(statement_id=statement_id, error=exc)
        raise self.retry(exc=exc) from exc
    return statement.pdf_sha256 if statement else None


@shared_task(acks_late=True)
def render_pending_statements() -> int:
    """Hand every statement still without its PDF to a worker again; return how many."""
    return workrows.republish_lost(kinds={STATEMENT_RENDER.name})[STATEMENT_RENDER.name]
