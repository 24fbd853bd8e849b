import datetime as dt

from django import forms
from django.utils import timezone

from cases.forms import AudienceField
from cases.models import Case
from core.safejson import BoundedJSONField
from findings.models import Category, EvaluationRun, FindingResponse, Severity
from findings.services import INSPECT_LOG_SUFFIXES
from submissions.models import ModelVersion


def holds_nul(value) -> bool:
    """Whether a JSON value holds a NUL character anywhere, which PostgreSQL cannot store."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


class MessageForm(forms.Form):
    body = forms.CharField(
        label="Message", widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000
    )
    internal = AudienceField()

    def __init__(self, *args, allow_internal: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_internal:
            del self.fields["internal"]


class ClarificationRequestForm(forms.Form):
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("due_date", timezone.localdate() + dt.timedelta(days=7))

    def clean_due_date(self):
        value = self.cleaned_data["due_date"]
        if value < timezone.localdate():
            raise forms.ValidationError("The due date cannot be in the past.")
        return value


class ClarificationAnswerForm(forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000)


class CloseClarificationForm(forms.Form):
    note = forms.CharField(required=False, max_length=2000)


def _submitted_versions(case: Case):
    return ModelVersion.objects.filter(case=case).submitted()


class EvaluationRunForm(forms.Form):
    category = forms.ChoiceField(choices=Category.choices)
    title = forms.CharField(max_length=200)
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    status = forms.ChoiceField(
        choices=EvaluationRun.RunStatus.choices, initial=EvaluationRun.RunStatus.COMPLETED
    )
    metrics = BoundedJSONField(
        required=False,
        initial=dict,
        help_text='Summary metrics as JSON, for example {"attack_success_rate": 0.04}.',
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Required, and the newest submitted version is chosen already: no empty choice.
    model_version = forms.ModelChoiceField(queryset=ModelVersion.objects.none(), empty_label=None)

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        versions = _submitted_versions(case)
        self.fields["model_version"].queryset = versions
        self.fields["model_version"].initial = versions.first()

    def clean_metrics(self):
        value = self.cleaned_data.get("metrics") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError("Give the metrics as a JSON object of names to values.")
        if holds_nul(value):
            raise forms.ValidationError("Metric names and values cannot contain NUL characters.")
        return value


class InspectImportForm(forms.Form):
    log = forms.FileField(
        label="Inspect log",
        help_text="The .eval or .json file Inspect AI wrote, whole.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(INSPECT_LOG_SUFFIXES)}),
    )
    category = forms.ChoiceField(choices=Category.choices)
    title = forms.CharField(
        max_length=200, required=False, help_text="Leave empty to use the Inspect task's name."
    )
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # Required, and the newest submitted version is chosen already: no empty choice.
    model_version = forms.ModelChoiceField(queryset=ModelVersion.objects.none(), empty_label=None)

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        versions = _submitted_versions(case)
        self.fields["model_version"].queryset = versions
        self.fields["model_version"].initial = versions.first()


class FindingForm(forms.Form):
    title = forms.CharField(max_length=200)
    # No default: a severity is a judgment the evaluator makes, never one a form makes.
    severity = forms.ChoiceField(
        choices=[("", "Choose a severity…"), *Severity.choices],
        error_messages={"required": "Choose the finding's severity."},
    )
    category = forms.ChoiceField(
        choices=[("", "The cited evaluation's category"), *Category.choices],
        required=False,
        help_text="Left as it is, the finding takes the category of the evaluation it cites.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    evaluation = forms.ModelChoiceField(
        queryset=EvaluationRun.objects.none(),
        required=False,
        label="Evidence: evaluation run",
        empty_label="No evaluation run cited",
    )
    sample_ids = forms.CharField(
        required=False,
        label="Evidence: sample ids",
        help_text="Comma-separated ids of the samples that show the finding.",
        max_length=4000,
    )

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evaluation"].queryset = EvaluationRun.objects.filter(case=case).order_by(
            "-started_at"
        )

    def clean(self):
        data = super().clean()
        if not data.get("category") and data.get("evaluation") is None and "category" in data:
            self.add_error(
                "category", "Choose the finding's category, or cite the evaluation it came from."
            )
        return data

    @classmethod
    def initial_for(cls, finding) -> dict:
        """Return a draft's values, to edit it."""
        return {
            "title": finding.title,
            "severity": finding.severity,
            "category": finding.category,
            "description": finding.description,
            "evaluation": finding.evaluation_id,
            "sample_ids": ", ".join(finding.sample_ids),
        }


class FindingResponseForm(forms.Form):
    kind = forms.ChoiceField(
        choices=FindingResponse.Kind.choices, widget=forms.RadioSelect, label="Your answer"
    )
    fixed_in_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.none(),
        required=False,
        label="Fixed in version",
        empty_label="Choose the revised version",
        help_text="For “fixed”: the revised version that carries the fix.",
    )
    mitigation = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For “mitigated”: the guardrail in place. For “disputed”: the mitigation "
        "you propose.",
    )
    rationale = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For “disputed”: why the finding does not hold.",
    )

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fixed_in_version"].queryset = ModelVersion.objects.filter(case=case)


class ResponseReviewForm(forms.Form):
    verdict = forms.ChoiceField(
        choices=[
            (v.value, v.label)
            for v in FindingResponse.Verdict
            if v != FindingResponse.Verdict.PENDING
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when rejecting: the company sees it and answers again.",
    )
