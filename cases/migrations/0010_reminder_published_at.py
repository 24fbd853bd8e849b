from django.db import migrations, models


class Migration(migrations.Migration):
    """When a reminder's delivery was last published, so one sweeper republishes it."""

    dependencies = [
        ("cases", "0009_case_open_planned_release_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="remindersent",
            name="published_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
