"""Webhooks now belong to the webhooks app; their tables stay as they are.

Only Django's record of the models moves (SeparateDatabaseAndState): no
table is created, renamed or dropped, so no data moves.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_signed_in_sessions'),
        ('cases', '0011_move_notices_deadlines_and_outbox_to_their_apps'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='webhook',
                ),
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='event',
                ),
                migrations.DeleteModel(
                    name='Webhook',
                ),
                migrations.DeleteModel(
                    name='WebhookDelivery',
                ),
            ],
            database_operations=[],
        ),
    ]
