"""The triage queue's filter choices from the shared cache, following every change."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Organization, Role
from review.services import declare_conflict
from tests.factories import StaffFactory

pytestmark = pytest.mark.usefixtures("shared_cache")


def queue(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("cases:desk"))
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_filter_choices_come_from_the_cache_and_follow_changes(cast, client, acme):
    client.force_login(cast.manager)
    _, first = queue(client)
    page, cached = queue(client)
    # The companies, CAISI people and conflicts were not read again.
    assert cached == first - 3
    assert "Initech" not in page
    Organization.objects.create(name="Initech", slug="initech")
    page, _ = queue(client)
    assert "Initech" in page
    newcomer = StaffFactory(staff_role=Role.CASE_MANAGER, full_name="Nia Newcomer")
    page, _ = queue(client)
    assert "Nia Newcomer" in page
    newcomer.is_active = False
    newcomer.save(update_fields=["is_active"])
    page, _ = queue(client)
    # Still a manager to filter by, no longer one to assign.
    assert page.count("Nia Newcomer") == 1
    declare_conflict(actor=cast.evaluator, organization=acme, reason="Advised Acme in 2025.")
    page, _ = queue(client)
    assert "Advised Acme in 2025." in page


def test_the_chosen_company_stays_selected_and_names_are_escaped(cast, client, acme):
    Organization.objects.create(name="<b>Bold</b> Labs", slug="bold")
    client.force_login(cast.manager)
    page = client.get(reverse("cases:desk"), {"organization": acme.pk}).content.decode()
    assert f'<option value="{acme.pk}" selected>Acme AI</option>' in page
    assert "&lt;b&gt;Bold&lt;/b&gt; Labs" in page and "<b>Bold</b>" not in page
