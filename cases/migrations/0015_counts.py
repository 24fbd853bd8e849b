"""Count the cases per company and status in a table the database keeps (the desk dashboard)."""

import django.db.models.deletion
from django.db import migrations, models

from cases.models import CASE_COUNTS


def install(apps, schema_editor):
    for statement in CASE_COUNTS.install(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    for statement in CASE_COUNTS.uninstall(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_external_identities'),
        ('cases', '0014_merge_checkpoints_and_deployment_status'),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('intake', 'Intake'), ('triage', 'Triage'), ('access', 'Model access'), ('documentation', 'Documentation'), ('testing', 'Testing'), ('findings', 'Findings'), ('cleared', 'Cleared'), ('revoked', 'Clearance revoked'), ('withdrawn', 'Withdrawn'), ('closed', 'Closed')], max_length=20)),
                ('submitted', models.BooleanField()),
                ('count', models.IntegerField(default=0)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.organization')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('organization', 'status', 'submitted'), name='case_count_key')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
