import re
from urllib.parse import urlsplit

from django import forms

# A verification code as the portal makes them (secrets.token_urlsafe): URL-safe base64.
CODE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class VerificationCodeForm(forms.Form):
    code = forms.CharField(
        label="Verification code",
        max_length=300,
        help_text="Printed under the QR code on the statement. You may paste the whole "
        "verification address instead.",
        widget=forms.TextInput(
            attrs={"class": "usa-input", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        """Accept the code alone or the address printed beside it, spaces and all."""
        typed = self.cleaned_data["code"].strip()
        if "/" in typed:
            path = urlsplit(typed).path if "://" in typed else typed
            typed = path.rstrip("/").rsplit("/", 1)[-1]
        code = "".join(typed.split())
        if not CODE.fullmatch(code):
            raise forms.ValidationError(
                "A verification code is 32 letters, digits, hyphens and underscores; "
                "check it against the statement."
            )
        return code
