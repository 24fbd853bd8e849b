from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_case_planned_release_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="remindersent",
            name="delivered_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        # Reminders claimed before the marker existed were published then: not again.
        migrations.RunSQL(
            "UPDATE cases_remindersent SET delivered_at = created_at",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name="remindersent",
            index=models.Index(
                condition=models.Q(("delivered_at__isnull", True)),
                fields=["created_at"],
                name="reminder_undelivered",
            ),
        ),
    ]
