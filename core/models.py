"""The transactional outbox's rows: the one model of the layer every app stands on."""

from django.db import models
from django.utils import timezone


class PendingTask(models.Model):
    """Background work written in the transaction that calls for it, awaiting its publish.

    `cases.outbox` publishes the row to the broker after the commit and
    deletes it; a row still here is work the broker has not received yet.
    """

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "cases_pendingtask"

    def __str__(self) -> str:
        return f"{self.task_name}{tuple(self.args)}"
