"""The settings pages where people make and revoke tokens and register webhooks."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import create_api_token
from cases import services
from cases.models import CaseEvent
from core import crypto
from webhooks.models import Webhook, WebhookChange, WebhookDelivery
from webhooks.services import claim_webhook_deliveries, deactivate_webhook, register_webhook

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_new_token_is_shown_once_and_works(client, liaison):
    client.force_login(liaison)
    page = client.post(
        reverse("accounts:api_tokens"),
        {"name": "release pipeline", "access": "read_only", "expires_in_days": "30"},
        follow=True,
    )
    assert page.redirect_chain == [(reverse("accounts:api_tokens"), 302)]
    raw = page.context["new_token"]
    assert raw in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    token = ApiToken.objects.get(user=liaison)
    assert token.read_only and token.expires_at is not None
    assert bearer(raw).get("/api/v1/cases/").status_code == 200

    listing = client.get(reverse("accounts:api_tokens")).content.decode()
    assert raw not in listing
    assert token.prefix in listing and "release pipeline" in listing


def test_bad_token_form_is_400_and_keeps_what_was_typed(client, liaison):
    client.force_login(liaison)
    page = client.post(
        reverse("accounts:api_tokens"),
        {"name": "", "access": "read_write", "expires_in_days": "45"},
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert 'value="45"' in html and "This field is required" in html
    assert not ApiToken.objects.exists()


def test_revoking_a_token_stops_it_at_once(client, liaison):
    client.force_login(liaison)
    raw = client.post(
        reverse("accounts:api_tokens"), {"name": "ci", "access": "read_write"}, follow=True
    ).context["new_token"]
    token = ApiToken.objects.get(user=liaison)
    response = client.post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert bearer(raw).get("/api/v1/cases/").status_code == 401
    assert "revoked" in client.get(reverse("accounts:api_tokens")).content.decode()


def test_nobody_revokes_or_sees_another_persons_tokens(client, liaison, other_liaison):
    client.force_login(liaison)
    client.post(reverse("accounts:api_tokens"), {"name": "mine", "access": "read_only"})
    token = ApiToken.objects.get(user=liaison)
    client.force_login(other_liaison)
    assert client.post(reverse("accounts:api_token_revoke", args=[token.pk])).status_code == 404
    assert "mine" not in client.get(reverse("accounts:api_tokens")).content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_webhook_secret_is_shown_once_and_log_lists_deliveries(client, liaison, other_liaison):
    client.force_login(liaison)
    page = client.post(
        reverse("webhooks:webhooks"), {"url": "https://hooks.acme.example/caisi"}, follow=True
    )
    assert page.status_code == 200
    secret = page.context["new_secret"]
    assert secret.startswith("whsec_") and secret in page.content.decode()
    webhook = Webhook.objects.get(owner=liaison)
    assert secret not in webhook.secret_encrypted
    assert secret not in client.get(reverse("webhooks:webhooks")).content.decode()

    case = services.open_case(actor=liaison, title="Logged", model_name="L")
    event = CaseEvent.objects.get(case=case, verb="case_opened")
    claim_webhook_deliveries(event_id=event.pk)
    delivery = WebhookDelivery.objects.get(webhook=webhook)
    log = client.get(reverse("webhooks:webhook_deliveries", args=[webhook.pk]))
    assert str(delivery.event_uid) in log.content.decode()
    assert case.number in log.content.decode()

    client.force_login(other_liaison)
    assert client.get(reverse("webhooks:webhook_deliveries", args=[webhook.pk])).status_code == 404
    assert client.post(reverse("webhooks:webhook_deactivate", args=[webhook.pk])).status_code == 404


def test_bad_webhook_url_is_400_and_kept(client, liaison):
    client.force_login(liaison)
    page = client.post(reverse("webhooks:webhooks"), {"url": "ftp://files.example/hook"})
    assert page.status_code == 400
    assert "ftp://files.example/hook" in page.content.decode()
    assert not Webhook.objects.exists()


def test_turned_off_webhook_gets_no_new_deliveries(client, liaison):
    webhook, _ = register_webhook(owner=liaison, url="https://hooks.acme.example/x")
    client.force_login(liaison)
    client.post(reverse("webhooks:webhook_deactivate", args=[webhook.pk]))
    case = services.open_case(actor=liaison, title="Quiet", model_name="Q")
    event = CaseEvent.objects.get(case=case, verb="case_opened")
    assert claim_webhook_deliveries(event_id=event.pk) == []


def test_navbar_links_to_the_settings_for_programs(client, manager):
    client.force_login(manager)
    html = client.get(reverse("cases:dashboard")).content.decode()
    assert reverse("accounts:api_tokens") in html


# --- rotate, delete, send a test event ----------------------------------------------------------


def page_messages(page) -> list[str]:
    return [str(m) for m in page.context["messages"]]


def test_rotating_a_secret_needs_the_confirmation_and_shows_the_new_one_once(client, liaison):
    webhook, old = register_webhook(owner=liaison, url="https://hooks.acme.example/caisi")
    client.force_login(liaison)
    url = reverse("webhooks:webhook_rotate_secret", args=[webhook.pk])
    page = client.post(url, follow=True)
    assert "Tick the confirmation" in " ".join(page_messages(page))
    assert page.context["new_secret"] is None
    webhook.refresh_from_db()
    assert crypto.decrypt(webhook.secret_encrypted) == old

    page = client.post(url, {"confirm": "on"}, follow=True)
    assert page.redirect_chain == [(reverse("webhooks:webhooks"), 302)]
    new = page.context["new_secret"]
    assert new.startswith("whsec_") and new != old and new in page.content.decode()
    assert "old one no longer verifies" in " ".join(page_messages(page))
    webhook.refresh_from_db()
    assert crypto.decrypt(webhook.secret_encrypted) == new
    assert new not in client.get(reverse("webhooks:webhooks")).content.decode()
    assert WebhookChange.objects.filter(webhook_id=webhook.pk, kind="secret_rotated").count() == 1


def test_deleting_a_webhook_needs_the_confirmation_and_is_recorded(client, liaison):
    webhook, _ = register_webhook(owner=liaison, url="https://hooks.acme.example/caisi")
    client.force_login(liaison)
    url = reverse("webhooks:webhook_delete", args=[webhook.pk])
    client.post(url)
    assert Webhook.objects.filter(pk=webhook.pk).exists()
    page = client.post(url, {"confirm": "on"}, follow=True)
    assert "deleted" in " ".join(page_messages(page))
    assert not Webhook.objects.filter(pk=webhook.pk).exists()
    changes = page.context["changes"]
    assert [c.kind for c in changes] == ["deleted", "registered"]
    assert "Deleted" in page.content.decode()


def test_sending_a_test_event_from_the_page_is_queued_and_recorded(
    client, liaison, django_capture_on_commit_callbacks
):
    webhook, _ = register_webhook(owner=liaison, url="https://hooks.acme.example/caisi")
    client.force_login(liaison)
    with django_capture_on_commit_callbacks():
        page = client.post(reverse("webhooks:webhook_test", args=[webhook.pk]), follow=True)
    assert "webhook.test event is on its way" in " ".join(page_messages(page))
    webhook.refresh_from_db()
    assert webhook.test_requested_at is not None
    assert WebhookChange.objects.filter(webhook_id=webhook.pk, kind="test_requested").exists()
    assert "sending" in page.content.decode() or "delivered" in page.content.decode()


def test_a_test_event_to_a_turned_off_webhook_is_refused_with_the_reason(client, liaison):
    webhook, _ = register_webhook(owner=liaison, url="https://hooks.acme.example/caisi")
    deactivate_webhook(actor=liaison, webhook=webhook)
    client.force_login(liaison)
    page = client.post(reverse("webhooks:webhook_test", args=[webhook.pk]), follow=True)
    assert "turned off" in " ".join(page_messages(page))
    webhook.refresh_from_db()
    assert webhook.test_requested_at is None


def test_nobody_rotates_deletes_or_tests_someone_elses_webhook(client, liaison, other_liaison):
    webhook, secret = register_webhook(owner=liaison, url="https://hooks.acme.example/caisi")
    client.force_login(other_liaison)
    for name in ("webhook_rotate_secret", "webhook_delete", "webhook_test"):
        url = reverse(f"webhooks:{name}", args=[webhook.pk])
        assert client.post(url, {"confirm": "on"}).status_code == 404
        assert client.get(url).status_code == 405
    webhook.refresh_from_db()
    assert crypto.decrypt(webhook.secret_encrypted) == secret
    assert webhook.test_requested_at is None


def test_changes_made_through_the_api_are_listed_on_the_page(client, liaison):
    _, raw = create_api_token(user=liaison, name="ci", read_only=False)
    api = bearer(raw)
    created = api.post("/api/v1/webhooks/", {"url": "https://hooks.acme.example/a"}, format="json")
    assert created.status_code == 201, created.content
    api.post(f"/api/v1/webhooks/{created.json()['id']}/rotate-secret/")
    client.force_login(liaison)
    changes = client.get(reverse("webhooks:webhooks")).context["changes"]
    assert [c.kind for c in changes] == ["secret_rotated", "registered"]
