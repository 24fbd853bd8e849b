"""The notices, deadlines and outbox rows now belong to their own apps
(notifications, deadlines, core); their tables stay as they are.

Only Django's record of the models moves (SeparateDatabaseAndState): no
table is created, renamed or dropped, so no data moves.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0010_reminder_published_at'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='deadline',
                    name='case',
                ),
                migrations.RemoveField(
                    model_name='remindersent',
                    name='deadline',
                ),
                migrations.RemoveField(
                    model_name='digestrun',
                    name='user',
                ),
                migrations.RemoveField(
                    model_name='notification',
                    name='case',
                ),
                migrations.RemoveField(
                    model_name='notification',
                    name='event',
                ),
                migrations.RemoveField(
                    model_name='notification',
                    name='reminder',
                ),
                migrations.RemoveField(
                    model_name='notification',
                    name='user',
                ),
                migrations.RemoveField(
                    model_name='notificationpreference',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='PendingTask',
                ),
                migrations.DeleteModel(
                    name='Deadline',
                ),
                migrations.DeleteModel(
                    name='DigestRun',
                ),
                migrations.DeleteModel(
                    name='ReminderSent',
                ),
                migrations.DeleteModel(
                    name='Notification',
                ),
                migrations.DeleteModel(
                    name='NotificationPreference',
                ),
            ],
            database_operations=[],
        ),
    ]
