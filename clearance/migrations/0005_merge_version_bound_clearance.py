"""Join the version-bound clearance with the branches that changed this app meanwhile."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('clearance', '0004_statement_certifies_verified_digest'),
        ('clearance', '0004_statement_validity_and_history'),
    ]

    operations = [
    ]
