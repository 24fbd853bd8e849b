from django import forms
from django.conf import settings
from django.utils import timezone

from submissions.checklist import GROUPS
from submissions.models import (
    PACKAGE_DOCUMENT_KINDS,
    SHA256_HEX,
    AccessMethod,
    Document,
    DocumentKind,
    ModelVersion,
    PracticeStatus,
    SafetyReportType,
    normalize_sha256,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class Sha256Field(forms.CharField):
    """A SHA-256 typed bare or as "sha256:<hex>", in either case; cleaned to the stored form."""

    def __init__(self, **kwargs):
        # Room for the "sha256:" prefix and stray spaces; the stored form is 64 characters.
        kwargs.setdefault("max_length", 80)
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean(self, value):
        value = normalize_sha256(super().clean(value))
        if value and not SHA256_HEX.match(value):
            raise forms.ValidationError(
                'A SHA-256 is 64 hexadecimal characters, with or without "sha256:" before it.',
                code="invalid",
            )
        return value


class ModelVersionForm(forms.ModelForm):
    artifact_sha256 = Sha256Field(
        label="Artifact SHA-256",
        required=False,
        help_text="SHA-256 of the weights archive: 64 hexadecimal characters, "
        '"sha256:" before them or not.',
    )

    class Meta:
        model = ModelVersion
        fields = [
            "label",
            "vcs_reference",
            "packaging",
            "artifact_sha256",
            "container_image",
            "changelog",
        ]
        widgets = {"changelog": forms.Textarea(attrs={"rows": 3})}


class AccessGrantForm(forms.Form):
    method = forms.ChoiceField(choices=AccessMethod.choices, label="How CAISI reaches the model")
    endpoint_url = forms.CharField(
        label="Endpoint or registry URL",
        required=False,
        max_length=200,
        help_text="https only. Leave empty for a secure upload of weights.",
    )
    instructions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )
    credentials = forms.CharField(
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off", "spellcheck": "false"}),
        help_text=(
            "API key, registry token or similar. Stored encrypted; only CAISI's case manager "
            "and assigned evaluators can reveal it, and every reveal is logged."
        ),
    )
    nda_reference = forms.CharField(label="NDA reference", required=False, max_length=200)
    nda_signed_on = forms.DateField(label="NDA signed on", required=False, widget=DATE)
    valid_from = forms.DateTimeField(required=False, widget=DATETIME)
    valid_until = forms.DateTimeField(widget=DATETIME, help_text="When this access expires.")
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.none(),
        label="Model version",
        required=False,
        empty_label=None,
        help_text="The version this access reaches (the newest, unless you choose): a revised "
        "version needs access of its own.",
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        versions = case.versions.order_by("-created_at", "-pk")
        self.fields["model_version"].queryset = versions
        self.fields["model_version"].initial = versions.first()

    def clean_endpoint_url(self):
        url = self.cleaned_data["endpoint_url"].strip()
        if url and not url.lower().startswith("https://"):
            raise forms.ValidationError(
                "The endpoint URL must start with https:// — plain http is not accepted."
            )
        if url:
            forms.URLField(assume_scheme="https").clean(url)
        return url

    def clean(self):
        data = super().clean()
        if data.get("valid_from") is None:
            data["valid_from"] = timezone.now()
        return data


class GrantRevokeForm(forms.Form):
    # Both are checked by the service, so the page and any other caller ask alike.
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why you are revoking CAISI's access",
        help_text="CAISI is told at once, with this reason; it is shown on the case page.",
    )
    confirm = forms.BooleanField(
        required=False, label="I understand CAISI's access ends now, whatever testing is under way."
    )


class ArtifactUploadForm(forms.Form):
    expected_sha256 = Sha256Field(
        label="Expected SHA-256",
        help_text="The upload is refused and removed unless the file matches this digest. "
        "Filled in with the digest the version declares.",
    )
    file = forms.FileField(label="Weights archive", allow_empty_file=True)


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=PACKAGE_DOCUMENT_KINDS)
    report_type = forms.ChoiceField(
        label="Safety report type",
        choices=[("", "—")] + SafetyReportType.choices,
        required=False,
        help_text="For a safety report: what it covers.",
    )
    title = forms.CharField(required=False, max_length=200)
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.none(), required=False, empty_label="The latest version"
    )
    file = forms.FileField(
        allow_empty_file=True,
        help_text="PDF, Markdown, plain text or JSON.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.md,.markdown,.txt,.json"}),
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model_version"].queryset = case.versions.all()
        limit = settings.SUBMISSION_DOCUMENT_MAX_BYTES // (1024 * 1024)
        self.fields["file"].help_text = f"PDF, Markdown, plain text or JSON; up to {limit} MiB."

    def clean(self):
        data = super().clean()
        if data.get("kind") == DocumentKind.SAFETY_REPORT and not data.get("report_type"):
            self.add_error("report_type", "Say what the safety report covers.")
        return data


class DocumentReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", "Accept"), ("changes", "Ask for changes")], widget=forms.RadioSelect
    )
    comment = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown to the company. Required when asking for changes.",
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "changes" and not (data.get("comment") or "").strip():
            self.add_error("comment", "Say what should change.")
        return data


class ChecklistForm(forms.Form):
    """One status, evidence document and note per practice, named `<practice>-<field>`."""

    def __init__(self, *args, case, entries, **kwargs):
        super().__init__(*args, **kwargs)
        # One query for the evidence choices, shared by every practice's field.
        documents = list(Document.objects.filter(case=case).order_by("kind", "-version_number"))
        self.documents = {str(d.pk): d for d in documents}
        evidence_choices = [("", "No document")] + [
            (str(d.pk), f"{d} · {d.display_title}") for d in documents
        ]
        self.rows = []
        for group in GROUPS:
            rows = []
            for practice in group.practices:
                entry = entries.get(practice.key)
                key = practice.key
                self.fields[f"{key}-status"] = forms.ChoiceField(
                    choices=[("", "Not answered")] + PracticeStatus.choices,
                    required=False,
                    initial=entry.status if entry else "",
                    label="Status",
                    widget=forms.Select(attrs={"class": "usa-select"}),
                )
                self.fields[f"{key}-evidence"] = forms.ChoiceField(
                    choices=evidence_choices,
                    required=False,
                    initial=str(entry.evidence_document_id or "") if entry else "",
                    label="Evidence document",
                    widget=forms.Select(attrs={"class": "usa-select"}),
                )
                self.fields[f"{key}-note"] = forms.CharField(
                    required=False,
                    max_length=4000,
                    initial=entry.note if entry else "",
                    label="Note",
                    widget=forms.Textarea(
                        attrs={"rows": 1, "class": "usa-textarea"}
                    ),
                )
                rows.append(
                    {
                        "practice": practice,
                        "entry": entry,
                        "status": self[f"{key}-status"],
                        "evidence": self[f"{key}-evidence"],
                        "note": self[f"{key}-note"],
                    }
                )
            self.rows.append({"group": group, "rows": rows})

    def answers(self) -> dict:
        return {
            row["practice"].key: {
                "status": self.cleaned_data[f"{row['practice'].key}-status"],
                "evidence_document": self.documents.get(
                    self.cleaned_data[f"{row['practice'].key}-evidence"]
                ),
                "note": self.cleaned_data[f"{row['practice'].key}-note"],
            }
            for group in self.rows
            for row in group["rows"]
        }
