from django import forms
from django.utils import timezone

from cases.intake import INTAKE_EDITABLE, INTAKE_SECTIONS
from cases.models import Case, ReleaseType
from cases.quantities import format_parameter_count, parse_parameter_count


class ParameterCountInput(forms.TextInput):
    def format_value(self, value):
        # A saved count comes back as a number: show it as people write it.
        if isinstance(value, int):
            return format_parameter_count(value)
        return super().format_value(value)


class ParameterCountField(forms.Field):
    """A parameter count typed as 70B, 1.2T or 400000000000, kept as a whole number."""

    widget = ParameterCountInput(attrs={"inputmode": "text", "autocomplete": "off"})
    default_error_messages = {
        "invalid": "Write the count as a whole number or with K, M, B or T, e.g. 70B or 1.2T.",
        "too_large": "That is more parameters than the portal can record.",
    }
    # The largest number the database column holds.
    LARGEST = 2**63 - 1

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, int):
            return value
        try:
            count = parse_parameter_count(str(value))
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if count > self.LARGEST:
            raise forms.ValidationError(self.error_messages["too_large"], code="too_large")
        return count


class AudienceField(forms.TypedChoiceField):
    """Who reads a note, chosen every time: no default hides a note from the company by accident.

    Cleans to True for a note internal to CAISI, False for one the company reads.
    """

    SHARED, INTERNAL = "shared", "internal"

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Who can read this")
        super().__init__(
            choices=[
                (self.SHARED, "Shared with the company"),
                (self.INTERNAL, "Internal to CAISI (never shown to the company)"),
            ],
            coerce=lambda value: value == self.INTERNAL,
            widget=forms.RadioSelect,
            error_messages={"required": "Choose who can read this: the company, or CAISI only."},
            **kwargs,
        )


class NewCaseForm(forms.Form):
    title = forms.CharField(
        max_length=200, help_text="A short name for this review, e.g. “Atlas 2 pre-release review”."
    )
    model_name = forms.CharField(max_length=200)


class IntakeForm(forms.ModelForm):
    """The intake as a draft: every field may stay empty until the case is submitted."""

    # The packaging of the submitted version is recorded with the version itself.
    SECTIONS = INTAKE_SECTIONS

    parameter_count = ParameterCountField(
        required=False,
        label="Parameter count",
        help_text="Total parameters: 70B, 1.2T or the whole number (400000000000).",
    )

    class Meta:
        model = Case
        fields = INTAKE_EDITABLE
        labels = {"title": "Review title", "intended_uses": "Intended use cases"}
        help_texts = {
            "modality": "For example text, text and images, speech.",
            "planned_release_date": "When you plan to release the model publicly.",
        }
        widgets = {
            "planned_release_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 3}),
            "training_data_description": forms.Textarea(attrs={"rows": 3}),
            "intended_uses": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["release_type"].choices = [("", "Choose a release type"), *ReleaseType.choices]

    def clean_planned_release_date(self):
        value = self.cleaned_data.get("planned_release_date")
        if value and value < timezone.localdate():
            raise forms.ValidationError("The planned release date cannot be in the past.")
        return value

    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def days_to_release(self) -> int | None:
        """Days from today to the planned release as typed (or as saved), if known."""
        value = None
        if self.is_bound:
            raw = self["planned_release_date"].value()
            try:
                value = self.fields["planned_release_date"].clean(raw)
            except forms.ValidationError:
                value = None
        else:
            value = self.instance.planned_release_date
        return None if value is None else (value - timezone.localdate()).days
