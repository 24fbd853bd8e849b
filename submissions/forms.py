from django import forms
from django.conf import settings
from django.utils import timezone

from submissions import services
from submissions.checklist import GROUPS
from submissions.models import (
    PACKAGE_DOCUMENT_KINDS,
    SHA256_HEX,
    AccessMethod,
    Document,
    DocumentKind,
    ModelVersion,
    Packaging,
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["packaging"].choices = [("", "Choose how it is packaged"), *Packaging.choices]


def _credentials(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off", "spellcheck": "false"}),
        help_text=help_text + " Stored encrypted; only CAISI's case manager and assigned "
        "evaluators can reveal it, and every reveal is logged.",
    )


def _instructions(label: str) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )


class AccessGrantForm(forms.Form):
    """How CAISI reaches the model: the chosen method's own fields, then the NDA and expiry.

    Each method has its group of fields; only the chosen group is read, so what
    was typed into another method's fields before changing one's mind is never stored.
    """

    # Per method: the grant's attribute → the form field that gives it.
    METHOD_FIELDS = {
        AccessMethod.WEIGHTS_UPLOAD: {"instructions": "upload_instructions"},
        AccessMethod.API_ENDPOINT: {
            "endpoint_url": "api_url",
            "credentials": "api_credentials",
            "instructions": "api_instructions",
        },
        AccessMethod.CONTAINER_REGISTRY: {
            "endpoint_url": "registry_url",
            "credentials": "registry_credentials",
            "instructions": "registry_instructions",
        },
    }
    METHOD_HINTS = {
        AccessMethod.WEIGHTS_UPLOAD: "You will be asked for the weights archive and its "
        "SHA-256 next.",
        AccessMethod.API_ENDPOINT: "CAISI calls the model through an https endpoint you run.",
        AccessMethod.CONTAINER_REGISTRY: "CAISI pulls the model's container image from your "
        "registry.",
    }
    URL_REQUIRED = {
        "api_url": "Give the https address of the API endpoint.",
        "registry_url": "Give the https address of the container registry.",
    }

    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.none(),
        label="Model version",
        required=False,
        empty_label=None,
        help_text="The version this access reaches (the newest, unless you choose): a revised "
        "version needs access of its own.",
    )
    method = forms.ChoiceField(
        choices=AccessMethod.choices,
        label="How CAISI reaches the model",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how CAISI will reach the model."},
    )
    upload_instructions = _instructions("How to load the weights")
    api_url = forms.CharField(
        label="Endpoint URL", required=False, max_length=200, help_text="https only."
    )
    api_credentials = _credentials("API key or token", "The key CAISI sends with each call.")
    api_instructions = _instructions("How to call the endpoint")
    registry_url = forms.CharField(
        label="Registry URL",
        required=False,
        max_length=200,
        help_text="https only: the registry that holds the image.",
    )
    registry_credentials = _credentials("Registry token", "The token CAISI pulls the image with.")
    registry_instructions = _instructions("How to run the image")
    nda_reference = forms.CharField(label="NDA reference", required=False, max_length=200)
    nda_signed_on = forms.DateField(label="NDA signed on", required=False, widget=DATE)
    valid_from = forms.DateTimeField(required=False, widget=DATETIME)
    valid_until = forms.DateTimeField(widget=DATETIME, help_text="When this access expires.")

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        versions = case.versions.order_by("-created_at", "-pk")
        self.fields["model_version"].queryset = versions
        self.fields["model_version"].initial = versions.first()

    def method_groups(self) -> list[dict]:
        """Return each method's fieldset: its value, legend, hint and bound fields."""
        return [
            {
                "method": method,
                "legend": method.label,
                "hint": self.METHOD_HINTS[method],
                "fields": [self[name] for name in fields.values()],
            }
            for method, fields in self.METHOD_FIELDS.items()
        ]

    def clean(self):
        data = super().clean()
        method = data.get("method")
        grant = {
            name: data.get(name)
            for name in ("model_version", "nda_reference", "nda_signed_on", "valid_until")
        }
        grant |= {"method": method, "endpoint_url": "", "credentials": "", "instructions": ""}
        grant["valid_from"] = data.get("valid_from") or timezone.now()
        # Only the chosen method's fields are read: the others are left out, whatever they hold.
        for attribute, name in self.METHOD_FIELDS.get(method, {}).items():
            value = data.get(name) or ""
            if name in self.URL_REQUIRED:
                value = self._https_url(name, value.strip())
            grant[attribute] = value
        return grant

    def _https_url(self, name: str, url: str) -> str:
        if not url:
            self.add_error(name, self.URL_REQUIRED[name])
        elif not url.lower().startswith("https://"):
            self.add_error(
                name, "The address must start with https:// — plain http is not accepted."
            )
        else:
            try:
                forms.URLField(assume_scheme="https").clean(url)
            except forms.ValidationError as invalid:
                self.add_error(name, invalid)
        return url


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
        choices=[("", "Choose what the safety report covers")] + SafetyReportType.choices,
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
    """One status, evidence document and note per practice, named `<practice>-<field>`.

    The practices come in one section per group; `section` names the one being
    saved, and only its answers are read and checked.
    """

    def __init__(self, *args, case, entries, section: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        self.section = section
        # One query for the evidence choices, shared by every practice's field.
        documents = list(Document.objects.filter(case=case).order_by("kind", "-version_number"))
        self.documents = {str(d.pk): d for d in documents}
        evidence_choices = [("", "No document")] + [
            (str(d.pk), f"{d} · {d.display_title}") for d in documents
        ]
        self.sections = []
        for group in GROUPS:
            rows = []
            for practice in group.practices:
                entry = entries.get(practice.key)
                key = practice.key
                # The practice's own title labels its status: 22 boxes all called "Status"
                # tell a screen-reader user nothing.
                self.fields[f"{key}-status"] = forms.ChoiceField(
                    choices=[("", "Not answered")] + PracticeStatus.choices,
                    required=False,
                    initial=entry.status if entry else "",
                    label=practice.title,
                    widget=forms.Select(
                        attrs={"class": "usa-select", "aria-describedby": f"aim-{key}"}
                    ),
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
                    label="Note or justification",
                    widget=forms.Textarea(
                        attrs={
                            "rows": 2,
                            "class": "usa-textarea",
                            "aria-describedby": f"note-hint-{key}",
                        }
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
            answered = sum(1 for row in rows if row["entry"] is not None)
            self.sections.append(
                {"group": group, "rows": rows, "answered": answered, "total": len(rows)}
            )

    def saved_sections(self) -> list[dict]:
        return [s for s in self.sections if self.section in (None, s["group"].key)]

    def clean(self):
        data = super().clean()
        # The service's own checks, shown beside the practice they concern.
        for key, answer in self.answers().items():
            for part, text in services.checklist_answer_problems(
                case=self.case, key=key, answer=answer
            ):
                self.add_error(f"{key}-{part}", text)
        return data

    def answers(self) -> dict:
        """Return the answers of the section being saved (every section, if none is named)."""
        return {
            row["practice"].key: {
                "status": self.cleaned_data.get(f"{row['practice'].key}-status", ""),
                "evidence_document": self.documents.get(
                    self.cleaned_data.get(f"{row['practice'].key}-evidence", "")
                ),
                "note": self.cleaned_data.get(f"{row['practice'].key}-note", ""),
            }
            for section in self.saved_sections()
            for row in section["rows"]
        }

    def unsaved_sections(self) -> list:
        """Return the other groups, whose typed answers differ from those on record."""
        changed = set(self.changed_data)
        return [
            s["group"]
            for s in self.sections
            if s not in self.saved_sections()
            and any(
                f"{row['practice'].key}-{part}" in changed
                for row in s["rows"]
                for part in ("status", "evidence", "note")
            )
        ]
