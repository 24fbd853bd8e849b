"""Forms of the pages where companies manage their people."""

from django import forms
from django.contrib.auth.password_validation import validate_password


class AccessRequestForm(forms.Form):
    organization_name = forms.CharField(max_length=200, label="Organization")
    contact_name = forms.CharField(max_length=200, label="Your name")
    email = forms.EmailField(
        label="Your work email address",
        help_text="If CAISI approves the request, the invitation goes to this address.",
    )
    reason = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Why your organization asks to take part",
        help_text="Which model you plan to release, and when.",
    )
    # Left empty by people; bots that fill every field give themselves away.
    website = forms.CharField(required=False, label="Leave this field empty")


class DeclineForm(forms.Form):
    note = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 2}), label="Why it is declined"
    )


class InvitationAcceptForm(forms.Form):
    email = forms.EmailField(
        label="Email address", help_text="The address the invitation was sent to."
    )
    full_name = forms.CharField(max_length=200, label="Full name")
    password1 = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(render_value=False)
    )
    password2 = forms.CharField(
        label="Password again", strip=False, widget=forms.PasswordInput(render_value=False)
    )

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            try:
                validate_password(first)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(label="Colleague's email address")
    full_name = forms.CharField(max_length=200, required=False, label="Name (optional)")
    is_administrator = forms.BooleanField(
        required=False, label="Also a company administrator (manages people and service accounts)"
    )


class AdministratorForm(forms.Form):
    is_administrator = forms.BooleanField(required=False)


class ServiceAccountForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name", help_text="e.g. “release pipeline”")


class ServiceTokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="Token name")
    access = forms.ChoiceField(
        choices=[
            ("read_only", "Read status only: the case list and each case's status"),
            ("read_write", "Read and write"),
        ],
        initial="read_only",
        widget=forms.RadioSelect,
    )
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=366,
        label="Expires in (days)",
        help_text="Leave empty for the default. Every service account token expires.",
    )
