from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "After release: incidents, monitoring reports, material changes"

    def ready(self):
        # The exported record's after-release part (core.records), written by this app.
        from core.records import RecordSection
        from incidents import records

        self.record_sections = (RecordSection("after release", records.write_after_release),)
