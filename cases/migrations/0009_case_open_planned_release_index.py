from django.db import migrations, models


class Migration(migrations.Migration):
    """The triage queue's planned-release order over open cases alone."""

    dependencies = [
        ("cases", "0008_pending_task"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    (
                        "status__in",
                        ["access", "documentation", "findings", "intake", "testing", "triage"],
                    )
                ),
                fields=["planned_release_date"],
                name="case_open_planned_release",
            ),
        ),
    ]
