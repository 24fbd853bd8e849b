"""Notices to people about their cases, and how each person wants to hear of them."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class NotificationKind(models.TextChoices):
    CASE_UPDATE = "case_update", "Status changes of a case"
    MESSAGE = "message", "Messages and clarification requests"
    ACTIVITY = "activity", "Other activity on a case"
    REMINDER = "reminder", "Deadline reminders"


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate", "Email me at once"
    DIGEST = "digest", "In the daily digest"
    OFF = "off", "No email"


class EmailState(models.TextChoices):
    PENDING = "pending", "Waiting to be emailed"
    SENDING = "sending", "Being emailed"
    SENT = "sent", "Emailed"
    NOT_EMAILED = "not_emailed", "Not emailed (preference)"


class Notification(models.Model):
    """A notice to one person about a case event or a deadline reminder."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="notifications", null=True
    )
    kind = models.CharField(
        max_length=16, choices=NotificationKind.choices, default=NotificationKind.ACTIVITY
    )
    event = models.ForeignKey(
        "cases.CaseEvent",
        on_delete=models.PROTECT,
        related_name="notifications",
        null=True,
        blank=True,
    )
    reminder = models.ForeignKey(
        "deadlines.ReminderSent",
        on_delete=models.PROTECT,
        related_name="notifications",
        null=True,
        blank=True,
    )
    text = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # The person's choice when the notice was made: a later change of mind
    # does not resend or drop what is already queued.
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.DIGEST)
    email_state = models.CharField(
        max_length=16, choices=EmailState.choices, default=EmailState.PENDING
    )
    emailed_at = models.DateTimeField(null=True, blank=True)
    # When its immediate email was last handed to the broker: the sweep's claim mark.
    email_published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "cases_notification"
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One notice per person per event or reminder: nothing is sent twice.
            models.UniqueConstraint(fields=["user", "event"], name="one_notification_per_event"),
            models.UniqueConstraint(
                fields=["user", "reminder"], name="one_notification_per_reminder"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            models.Index(
                fields=["delivery", "user"],
                condition=models.Q(email_state="pending"),
                name="notification_email_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ← {self.text or self.event}"

    def get_absolute_url(self) -> str:
        return self.case.get_absolute_url() if self.case_id else reverse("cases:dashboard")

    @property
    def open_url(self) -> str:
        """Where a click on the notice goes: it is marked read, then the case opens."""
        return reverse("notifications:open", kwargs={"pk": self.pk})


class NotificationPreference(models.Model):
    """How one person wants to hear about one kind of notice (the default is the digest)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.DIGEST)

    class Meta:
        db_table = "cases_notificationpreference"
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} → {self.delivery}"


class DigestRun(models.Model):
    """The one daily digest a person gets on one day; its unique row is the claim."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(null=True, blank=True)
    notification_count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "cases_digestrun"
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="one_digest_a_day")]

    def __str__(self) -> str:
        return f"digest {self.day} for {self.user_id}"
