"""The forms after release: an incident's report, its updates, triage and notes; a report upload."""

from django import forms

from cases.forms import AudienceField
from incidents.models import IncidentSeverity, TriageState
from incidents.services import MAX_TEXT


def _text(label: str, *, required: bool = False, help_text: str = "", rows: int = 3):
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_TEXT,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class IncidentReportForm(forms.Form):
    summary = _text("What happened", required=True, rows=5)
    detected_at = forms.DateTimeField(
        label="Detected at",
        help_text="When you became aware of it (your local time).",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    severity = forms.ChoiceField(choices=IncidentSeverity.choices)
    affected_versions = _text("Affected versions")
    affected_uses = _text("Affected uses")
    users_affected = forms.CharField(label="Users affected", max_length=200, required=False)
    mitigations = _text("Mitigations taken")


class IncidentUpdateForm(forms.Form):
    body = _text("What is new", required=True, rows=4)
    mitigations = _text("Mitigations taken (replaces the earlier text, if given)")
    users_affected = forms.CharField(label="Users affected", max_length=200, required=False)
    resolved = forms.BooleanField(label="The incident is resolved", required=False)
    final = forms.BooleanField(label="This is the final report", required=False)

    def clean(self):
        data = super().clean()
        # An empty field leaves the earlier text as it was.
        for name in ("mitigations", "users_affected"):
            if not data.get(name):
                data.pop(name, None)
        return data


class IncidentTriageForm(forms.Form):
    state = forms.ChoiceField(
        choices=[c for c in TriageState.choices if c[0] != TriageState.REPORTED]
    )
    conclusion = _text("Conclusion (shown to the company; required to close)")


class IncidentNoteForm(forms.Form):
    body = _text("Note", required=True)
    internal = AudienceField()

    def __init__(self, *args, staff: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not staff:
            del self.fields["internal"]


class MonitoringReportUploadForm(forms.Form):
    file = forms.FileField(help_text="PDF, Markdown or plain text; the document checks apply.")


class MonitoringReportReviewForm(forms.Form):
    accept = forms.TypedChoiceField(
        choices=[("1", "Accept"), ("0", "Ask for changes")], coerce=lambda v: v == "1"
    )
    comment = _text("Comment (shown to the company; required when asking for changes)")
