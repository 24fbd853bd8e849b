"""Join the timeline checkpoints with the branch that added deployment status and the company view."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0013_append_only_everywhere'),
        ('cases', '0013_merge_deployment_status_and_company_view'),
    ]

    operations = [
    ]
