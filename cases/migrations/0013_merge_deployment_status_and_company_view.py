"""Join the two branches of work that each added a migration here."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0012_case_deployment_status'),
        ('cases', '0012_company_view_and_submission'),
    ]

    operations = [
    ]
