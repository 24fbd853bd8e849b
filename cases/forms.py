from django import forms
from django.utils import timezone

from accounts.models import ConflictOfInterest, Role, User

from .lifecycle import Action, Transition
from .models import Case
from .services import INTAKE_EDITABLE


class NewCaseForm(forms.Form):
    title = forms.CharField(
        max_length=200, help_text="A short name for this review, e.g. “Atlas 2 pre-release review”."
    )
    model_name = forms.CharField(max_length=200)


class IntakeForm(forms.ModelForm):
    """The intake as a draft: every field may stay empty until the case is submitted."""

    # The page shows the intake in these sections; the packaging of the
    # submitted version is recorded with the version itself.
    SECTIONS = (
        ("The model", ("title", "model_name", "description", "architecture", "modality")),
        (
            "Scale and training",
            ("parameter_count", "training_compute", "training_data_description"),
        ),
        ("Use and release", ("intended_uses", "release_type", "planned_release_date")),
    )

    class Meta:
        model = Case
        fields = INTAKE_EDITABLE
        labels = {"title": "Review title", "intended_uses": "Intended use cases"}
        help_texts = {
            "parameter_count": "Total parameters, as a whole number (70000000000 for 70B).",
            "modality": "For example text, text and images, speech.",
            "planned_release_date": "When you plan to release the model publicly.",
        }
        widgets = {
            "planned_release_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 3}),
            "training_data_description": forms.Textarea(attrs={"rows": 3}),
            "intended_uses": forms.Textarea(attrs={"rows": 3}),
        }

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


class ManagerChoiceField(forms.ModelChoiceField):
    def __init__(self, case: Case, **kwargs):
        self.conflicts = {}
        for c in ConflictOfInterest.objects.active().filter(organization_id=case.organization_id):
            self.conflicts.setdefault(c.user_id, []).append(c.reason)
        queryset = User.objects.filter(staff_role=Role.CASE_MANAGER, is_active=True)
        super().__init__(queryset=queryset, **kwargs)

    def label_from_instance(self, obj):
        reasons = self.conflicts.get(obj.pk)
        return f"{obj} — declared conflict: {'; '.join(reasons)}" if reasons else str(obj)


class ActionForm(forms.Form):
    """What the actor supplies with an action, built from the lifecycle table."""

    def __init__(self, *args, transition: Transition, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        if "manager" in transition.params:
            self.fields["manager"] = ManagerChoiceField(
                case, label="Case manager", help_text="People with a declared conflict are refused."
            )
        if "reason" in transition.params or transition.action == Action.WITHDRAW:
            self.fields["reason"] = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 3}),
                required="reason" in transition.params,
                max_length=4000,
            )
        if "scope" in transition.params:
            self.fields["scope"] = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 3}),
                max_length=4000,
                help_text="What the clearance covers: the model version and its deployment.",
            )
            self.fields["conditions"] = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000
            )
