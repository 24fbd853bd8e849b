"""Deadlines and reminders, moved here from cases with their tables.

Only Django's record of the models moves (SeparateDatabaseAndState): no
table is created, renamed or dropped, so no data moves.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0011_move_notices_deadlines_and_outbox_to_their_apps'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Deadline',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('planned_release', 'Planned release date'), ('clarification_due', 'Clarification request due'), ('finding_response_due', 'Response to a finding due'), ('access_expiry', 'Model access expires'), ('service_level', 'Service level of the current step')], max_length=32)),
                        ('subject', models.CharField(blank=True, max_length=64)),
                        ('base_due_at', models.DateTimeField(help_text='The due time before any paused clock.')),
                        ('due_at', models.DateTimeField(help_text='The due time, moved later by paused clocks.')),
                        ('next_reminder_at', models.DateTimeField(blank=True, null=True)),
                        ('satisfied_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deadlines', to='cases.case')),
                    ],
                    options={
                        'db_table': 'cases_deadline',
                        'ordering': ['due_at'],
                    },
                ),
                migrations.CreateModel(
                    name='ReminderSent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('offset_days', models.IntegerField()),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('delivered_at', models.DateTimeField(blank=True, null=True)),
                        ('published_at', models.DateTimeField(blank=True, null=True)),
                        ('deadline', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='deadlines.deadline')),
                    ],
                    options={
                        'db_table': 'cases_remindersent',
                    },
                ),
                migrations.AddIndex(
                    model_name='deadline',
                    index=models.Index(condition=models.Q(('satisfied_at__isnull', True)), fields=['next_reminder_at'], name='deadline_reminder_due'),
                ),
                migrations.AddConstraint(
                    model_name='deadline',
                    constraint=models.UniqueConstraint(condition=models.Q(('satisfied_at__isnull', True)), fields=('case', 'kind', 'subject'), name='one_pending_deadline_per_subject'),
                ),
                migrations.AddIndex(
                    model_name='remindersent',
                    index=models.Index(condition=models.Q(('delivered_at__isnull', True)), fields=['created_at'], name='reminder_undelivered'),
                ),
                migrations.AddConstraint(
                    model_name='remindersent',
                    constraint=models.UniqueConstraint(fields=('deadline', 'offset_days'), name='one_reminder_per_offset'),
                ),
            ],
            database_operations=[],
        ),
    ]
