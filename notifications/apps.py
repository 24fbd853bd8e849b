import datetime as dt

from django.apps import AppConfig
from django.db.models import Q

from core.work import Work

# A notice to be emailed at once waits for its email; one whose message was lost
# is published again by the sweep of core.workrows (the send claims it first).
IMMEDIATE_EMAIL = Work(
    name="immediate email",
    model="notifications.Notification",
    task="notifications.tasks.email_notification",
    pending=Q(delivery="immediate", email_state="pending"),
    published="email_published_at",
    after=dt.timedelta(minutes=15),
)


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"
    background_work = (IMMEDIATE_EMAIL,)
