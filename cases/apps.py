from django.apps import AppConfig

from core.records import RecordedContent

# A message is never edited: its event's hash covers its author, body and audience.
MESSAGE_CONTENT = RecordedContent(
    verbs=("message_posted", "internal_note_added"),
    model="cases.Message",
    key="message",
    fields=("author", "body", "internal"),
)


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases"
    recorded_content = (MESSAGE_CONTENT,)

    def ready(self):
        from cases import signals  # noqa: F401  (keeps the shared cache's case generations current)
