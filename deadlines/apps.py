import datetime as dt

from django.apps import AppConfig
from django.db.models import Q

from core.work import Work

# A claimed reminder waits for its delivery to mark it delivered; one lost on the
# way is published again by the sweep of core.workrows.
REMINDER_DELIVERY = Work(
    name="reminder delivery",
    model="deadlines.ReminderSent",
    task="deadlines.tasks.deliver_reminders",
    pending=Q(delivered_at__isnull=True),
    after=dt.timedelta(minutes=15),
    chunk=200,  # one message per reminder costs more than the claim
)


class DeadlinesConfig(AppConfig):
    name = "deadlines"
    verbose_name = "Deadlines and reminders"
    background_work = (REMINDER_DELIVERY,)
