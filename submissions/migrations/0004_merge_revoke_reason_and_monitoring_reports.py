"""Join the two branches of work that each added a migration here."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('submissions', '0003_grant_revoke_reason'),
        ('submissions', '0003_monitoring_report_kind'),
    ]

    operations = [
    ]
