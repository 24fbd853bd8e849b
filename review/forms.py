"""The form of a lifecycle action, built from the parameters the table gives it."""

from django import forms

from accounts.models import ConflictOfInterest, Role, User
from cases.models import Case
from review import gates
from review.lifecycle import ParamKind, Transition
from submissions.models import ModelVersion


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


class VersionChoiceField(forms.ModelChoiceField):
    """The versions a statement may name: only those CAISI reached and evaluated."""

    def __init__(self, case: Case, **kwargs):
        clearable = [v.pk for v in gates.clearable_versions(case)]
        super().__init__(queryset=ModelVersion.objects.filter(pk__in=clearable), **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.label} · {obj.vcs_reference} · {obj.digest or 'no digest declared'}"


class ActionForm(forms.Form):
    """What the actor supplies with an action: one field per parameter in the table."""

    def __init__(self, *args, transition: Transition, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        for param in transition.parameters:
            if param.kind == ParamKind.CASE_MANAGER:
                field = ManagerChoiceField(
                    case,
                    label="Case manager",
                    help_text=param.help_text,
                    empty_label="Choose a case manager",
                )
            elif param.kind == ParamKind.DATE:
                field = forms.DateField(
                    required=param.required,
                    help_text=param.help_text,
                    widget=forms.DateInput(attrs={"type": "date"}),
                )
            elif param.kind == ParamKind.DAYS:
                field = forms.IntegerField(
                    required=param.required, min_value=1, max_value=3650, help_text=param.help_text
                )
            elif param.kind == ParamKind.INCIDENT:
                field = forms.TypedChoiceField(
                    required=param.required,
                    coerce=int,
                    empty_value=None,
                    choices=[("", "Choose an incident" if param.required else "No incident")]
                    + [
                        (i.number, f"Incident {i.number} ({i.get_severity_display().lower()})")
                        for i in case.incidents.all()
                    ],
                    help_text=param.help_text,
                )
            elif param.kind == ParamKind.CHOICES:
                field = forms.MultipleChoiceField(
                    required=param.required,
                    choices=param.choices.choices,
                    widget=forms.CheckboxSelectMultiple,
                    help_text=param.help_text,
                )
            elif param.kind == ParamKind.MODEL_VERSION:
                field = VersionChoiceField(
                    case, label="Model version", help_text=param.help_text, empty_label=None
                )
            else:
                field = forms.CharField(
                    widget=forms.Textarea(attrs={"rows": 3}),
                    required=param.required,
                    max_length=4000,
                    help_text=param.help_text,
                )
            if param.label:
                field.label = param.label
            self.fields[param.name] = field
