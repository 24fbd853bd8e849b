"""Count the findings per company, severity and state in a table the database keeps."""

import django.db.models.deletion
from django.db import migrations, models

from findings.models import FINDING_COUNTS


def install(apps, schema_editor):
    for statement in FINDING_COUNTS.install(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    for statement in FINDING_COUNTS.uninstall(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_external_identities'),
        ('findings', '0004_inspect_import_queue'),
    ]

    operations = [
        migrations.CreateModel(
            name='FindingCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('severity', models.CharField(choices=[('critical', 'Critical'), ('high', 'High'), ('medium', 'Medium'), ('low', 'Low'), ('informational', 'Informational')], max_length=16)),
                ('state', models.CharField(choices=[('draft', 'Draft (internal)'), ('shared', "Shared, awaiting the company's answer"), ('answered', "Answered, awaiting CAISI's review"), ('resolved', 'Resolved')], max_length=16)),
                ('count', models.IntegerField(default=0)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.organization')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('organization', 'severity', 'state'), name='finding_count_key')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
