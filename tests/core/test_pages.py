"""The frame of every page (banner, skip link, identifier), the public pages, and the form pack."""

import re

from django import forms
from django.template import Context, Template
from django.urls import reverse

REQUIRED_LINKS = (
    "About CAISI",
    "Accessibility statement",
    "FOIA requests",
    "No FEAR Act data",
    "Privacy policy",
    "Visit USA.gov",
)


def test_every_page_has_the_banner_the_skip_link_and_the_identifier(client, db):
    page = client.get(reverse("login")).content.decode()
    assert "An official website of the United States government" in page
    assert 'class="usa-banner"' in page
    assert '<a class="usa-skipnav" href="#main-content">' in page and 'id="main-content"' in page
    for text in REQUIRED_LINKS:
        assert text in page, text
    assert "bootstrap" not in page.lower()
    assert len(re.findall(r"<h1\b", page)) == 1


def test_the_identifier_links_come_from_settings(client, db, settings):
    settings.FOIA_URL = "https://foia.example.gov/"
    settings.PRIVACY_URL = "https://privacy.example.gov/"
    page = client.get(reverse("login")).content.decode()
    assert 'href="https://foia.example.gov/"' in page
    assert 'href="https://privacy.example.gov/"' in page


def test_the_accessibility_statement_and_privacy_notice_are_public(client, db):
    for name, heading in (
        ("accessibility", "Accessibility statement"),
        ("privacy", "Privacy notice"),
    ):
        response = client.get(reverse(name))
        assert response.status_code == 200
        page = response.content.decode()
        assert f"<h1>{heading}</h1>" in page
        # Public pages say nothing of confidential material.
        assert "Confidential:" not in page


class Sample(forms.Form):
    name = forms.CharField(label="Model name", help_text="As the company publishes it.")
    kind = forms.ChoiceField(
        label="Release type", choices=[("open", "Open"), ("api", "API")], widget=forms.RadioSelect
    )
    notes = forms.CharField(label="Notes", widget=forms.Textarea, required=False)
    agree = forms.BooleanField(label="I agree")


def render(form) -> str:
    return Template("{% load crispy_forms_tags %}{{ form|crispy }}").render(Context({"form": form}))


def test_the_form_pack_ties_hints_and_errors_to_their_inputs():
    html = render(Sample(data={"name": "", "kind": ""}))
    assert 'class="usa-form-group usa-form-group--error"' in html
    name_input = re.search(r'<input[^>]*name="name"[^>]*>', html).group(0)
    assert 'aria-describedby="id_name_helptext id_name_error"' in name_input
    assert 'aria-invalid="true"' in name_input and "usa-input--error" in name_input
    assert '<div class="usa-hint" id="id_name_helptext">As the company publishes it.</div>' in html
    assert 'id="id_name_error"' in html
    # Radios sit in a fieldset named by its legend, which points at the error too.
    assert re.search(r'<fieldset class="usa-fieldset" aria-describedby=" ?id_kind_error">', html)
    assert '<legend class="usa-legend usa-label--error">Release type' in html
    assert 'class="usa-radio__input"' in html
    assert re.search(r'<textarea[^>]*class="[^"]*\busa-textarea\b', html)
    assert re.search(r'<input type="checkbox"[^>]*class="[^"]*\busa-checkbox__input\b', html)


def test_the_form_pack_sums_up_every_error_with_a_link_to_its_field():
    html = render(Sample(data={"name": "", "kind": "api"}))
    summary = re.search(
        r"<div class=\"usa-alert usa-alert--error[^>]*data-error-summary.*?</div>\s*</div>",
        html,
        re.S,
    ).group(0)
    assert 'tabindex="-1"' in summary and "There is a problem" in summary
    assert '<a class="usa-link" href="#id_name">Model name: This field is required.</a>' in summary
    assert 'href="#id_agree"' in summary
    assert "Release type" not in summary  # answered


def test_a_valid_form_has_no_error_summary():
    html = render(Sample())
    assert "data-error-summary" not in html and "usa-form-group--error" not in html
