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

    class Meta:
        model = Case
        fields = INTAKE_EDITABLE
        widgets = {
            "planned_release_date": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
            "training_data_description": forms.Textarea(attrs={"rows": 3}),
            "intended_uses": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_planned_release_date(self):
        value = self.cleaned_data.get("planned_release_date")
        if value and value < timezone.localdate():
            raise forms.ValidationError("The planned release date cannot be in the past.")
        return value


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
