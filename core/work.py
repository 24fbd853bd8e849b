"""What one kind of background work is: a row, its pending condition, its claim mark, its task.

Apps declare theirs as `background_work` in their AppConfig (this module
imports no model, so an apps.py may import it); `core.workrows` sweeps them.
"""

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Q


@dataclass(frozen=True)
class Work:
    """One kind of background work kept as rows."""

    name: str
    model: str  # "app_label.ModelName"
    task: str  # the task doing the work, by name; given one id, or a list when chunk > 1
    pending: Q  # the rows whose work is not done
    published: str = "published_at"  # the claim mark
    created: str = "created_at"
    after: dt.timedelta = dt.timedelta(minutes=15)  # how long a published row may take
    chunk: int = 1
    # The periodic task that sweeps this kind on its own schedule, if any; the
    # general sweep (core.workrows.sweep_lost_work) takes every other kind.
    swept_by: str = ""

    def model_class(self):
        return apps.get_model(self.model)

    def lost(self, now: dt.datetime):
        """Return the rows pending and not published since the grace period began."""
        cutoff = now - self.after
        stale = Q(**{f"{self.published}__isnull": True, f"{self.created}__lte": cutoff}) | Q(
            **{f"{self.published}__lte": cutoff}
        )
        return self.model_class().objects.filter(self.pending).filter(stale)
