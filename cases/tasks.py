import logging

from celery import shared_task

from cases import services
from core.signing import SigningIdentityMissing

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def checkpoint_timelines() -> int | None:
    """Sign a checkpoint of the timeline heads that moved; return its number, if any."""
    try:
        checkpoint = services.sign_checkpoint()
    except SigningIdentityMissing as missing:
        # Nothing to retry until an operator installs the identity; the next round tries again.
        logger.error("Timeline checkpoint not signed: %s", missing)
        return None
    return checkpoint.seq if checkpoint else None
