"""The outbox's rows, moved here from cases with their table (cases_pendingtask).

Only Django's record of the models moves (SeparateDatabaseAndState): no
table is created, renamed or dropped, so no data moves.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    # The table was made by cases' migrations; their record of the model goes first.
    dependencies = [
        ('cases', '0011_move_notices_deadlines_and_outbox_to_their_apps'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='PendingTask',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('task_name', models.CharField(max_length=200)),
                        ('args', models.JSONField(default=list)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('last_error', models.CharField(blank=True, max_length=500)),
                    ],
                    options={
                        'db_table': 'cases_pendingtask',
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
