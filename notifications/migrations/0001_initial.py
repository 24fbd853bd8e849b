"""Notices, preferences and digests, moved here from cases with their tables.

Only Django's record of the models moves (SeparateDatabaseAndState): no
table is created, renamed or dropped, so no data moves.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0011_move_notices_deadlines_and_outbox_to_their_apps'),
        ('deadlines', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DigestRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('day', models.DateField()),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('notification_count', models.PositiveIntegerField(default=0)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'cases_digestrun',
                        'constraints': [models.UniqueConstraint(fields=('user', 'day'), name='one_digest_a_day')],
                    },
                ),
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('case_update', 'Status changes of a case'), ('message', 'Messages and clarification requests'), ('activity', 'Other activity on a case'), ('reminder', 'Deadline reminders')], default='activity', max_length=16)),
                        ('text', models.CharField(blank=True, max_length=300)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('read_at', models.DateTimeField(blank=True, null=True)),
                        ('delivery', models.CharField(choices=[('immediate', 'Email me at once'), ('digest', 'In the daily digest'), ('off', 'No email')], default='digest', max_length=16)),
                        ('email_state', models.CharField(choices=[('pending', 'Waiting to be emailed'), ('sending', 'Being emailed'), ('sent', 'Emailed'), ('not_emailed', 'Not emailed (preference)')], default='pending', max_length=16)),
                        ('emailed_at', models.DateTimeField(blank=True, null=True)),
                        ('case', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='cases.case')),
                        ('event', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='notifications', to='cases.caseevent')),
                        ('reminder', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='notifications', to='deadlines.remindersent')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'cases_notification',
                        'ordering': ['-created_at', '-pk'],
                        'indexes': [models.Index(fields=['user', 'read_at'], name='cases_notif_user_id_e14563_idx'), models.Index(condition=models.Q(('email_state', 'pending')), fields=['delivery', 'user'], name='notification_email_pending')],
                        'constraints': [models.UniqueConstraint(fields=('user', 'event'), name='one_notification_per_event'), models.UniqueConstraint(fields=('user', 'reminder'), name='one_notification_per_reminder')],
                    },
                ),
                migrations.CreateModel(
                    name='NotificationPreference',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('case_update', 'Status changes of a case'), ('message', 'Messages and clarification requests'), ('activity', 'Other activity on a case'), ('reminder', 'Deadline reminders')], max_length=16)),
                        ('delivery', models.CharField(choices=[('immediate', 'Email me at once'), ('digest', 'In the daily digest'), ('off', 'No email')], default='digest', max_length=16)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notification_preferences', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'cases_notificationpreference',
                        'constraints': [models.UniqueConstraint(fields=('user', 'kind'), name='one_preference_per_kind')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
