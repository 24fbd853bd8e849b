"""Join the version-bound clearance with the branches that changed this app meanwhile."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('submissions', '0004_merge_revoke_reason_and_monitoring_reports'),
        ('submissions', '0004_model_card_problems_and_reported_results'),
    ]

    operations = [
    ]
