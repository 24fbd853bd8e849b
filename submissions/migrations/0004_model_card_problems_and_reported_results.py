from django.db import migrations, models


def keep_recorded_problems(apps, schema_editor):
    """Carry each document's one recorded card problem into the list of problems."""
    Document = apps.get_model("submissions", "Document")
    for document in Document.objects.exclude(card_problem="").iterator():
        document.card_problems = [document.card_problem]
        document.save(update_fields=["card_problems"])


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0003_version_access_and_carried_documentation"),
    ]

    operations = [
        migrations.AddField(
            model_name="document",
            name="card_problems",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="document",
            name="card_self_reported",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(keep_recorded_problems, migrations.RunPython.noop),
        migrations.RemoveField(model_name="document", name="card_problem"),
    ]
