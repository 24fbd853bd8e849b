"""Writes about people: conflicts of interest declared by CAISI staff."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from cases.services import ActionRefused

from .models import ConflictOfInterest, Organization


@transaction.atomic
def declare_conflict(
    *,
    actor,
    organization: Organization,
    reason: str,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> ConflictOfInterest:
    """Declare the actor's conflict of interest with a company; assignments then refuse them."""
    if not actor.is_authenticated or not actor.is_caisi_staff:
        raise ActionRefused("Conflicts of interest are declared by CAISI staff.")
    reason = reason.strip()
    if not reason:
        raise ActionRefused("Give the reason for the conflict.")
    valid_from = valid_from or timezone.localdate()
    if valid_until is not None and valid_until < valid_from:
        raise ActionRefused("The conflict cannot end before it begins.")
    return ConflictOfInterest.objects.create(
        user=actor,
        organization=organization,
        reason=reason,
        valid_from=valid_from,
        valid_until=valid_until,
    )


@transaction.atomic
def end_conflict(*, actor, conflict: ConflictOfInterest, on: dt.date | None = None):
    """End one of the actor's own declared conflicts (it stays on record)."""
    conflict = ConflictOfInterest.objects.select_for_update().get(pk=conflict.pk)
    if conflict.user_id != actor.pk:
        raise ActionRefused("Only the person who declared a conflict can end it.")
    on = on or timezone.localdate()
    if conflict.valid_until is not None and conflict.valid_until < on:
        raise ActionRefused("This conflict has ended already.")
    # It ends the day before, so from `on` the person may be assigned again.
    conflict.valid_until = on - dt.timedelta(days=1)
    conflict.save(update_fields=["valid_until"])
    return conflict
