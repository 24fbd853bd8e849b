import datetime as dt

from django.apps import AppConfig
from django.db.models import Q

from core.work import Work

# A claimed delivery is sent at once; one whose message was lost, or whose retry
# never came, is published again by the sweep of core.workrows.
WEBHOOK_DELIVERY = Work(
    name="webhook delivery",
    model="webhooks.WebhookDelivery",
    task="webhooks.tasks.deliver_webhook",
    pending=Q(status="pending", webhook__active=True),
    after=dt.timedelta(minutes=15),
)


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    # Secrets kept under CREDENTIAL_ENCRYPTION_KEYS, re-encrypted by `reencrypt_credentials`.
    encrypted_fields = (("Webhook", "secret_encrypted"),)
    background_work = (WEBHOOK_DELIVERY,)
