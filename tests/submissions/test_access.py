"""Model access (step 3): https endpoints, encrypted credentials, logged reveals, the gate."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseEvent
from core import crypto
from core.errors import ActionRefused, CaseNotFound
from review import demo
from review.services import assign_evaluator, gate_blockers
from submissions import services
from submissions.models import AccessGrant, AccessMethod
from webhooks.services import register_webhook

pytestmark = pytest.mark.django_db

SECRET = "sk-live-4f9a-very-secret-token"


def api_grant(case, liaison, **overrides):
    fields = {
        "method": AccessMethod.API_ENDPOINT,
        "endpoint_url": "https://eval.acme.example/v1",
        "credentials": SECRET,
        "nda_reference": "NDA-7",
        "nda_signed_on": timezone.localdate(),
        "valid_until": timezone.now() + dt.timedelta(days=30),
    }
    return services.grant_access(case=case, actor=liaison, **{**fields, **overrides})


def reveal_url(case, grant):
    return reverse("submissions:grant_reveal", kwargs={"number": case.number, "pk": grant.pk})


def reveals(case):
    return CaseEvent.objects.filter(case=case, verb="credentials_revealed").count()


def test_credentials_column_holds_no_plaintext(liaison, case_at):
    case = case_at("access")
    grant = api_grant(case, liaison)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials_encrypted FROM submissions_accessgrant WHERE id = %s", [grant.pk]
        )
        (stored,) = cursor.fetchone()
    assert SECRET not in stored and "4f9a" not in stored
    assert crypto.decrypt(stored) == SECRET


def test_grant_event_never_carries_the_credentials(liaison, case_at):
    case = case_at("access")
    api_grant(case, liaison)
    event = CaseEvent.objects.get(case=case, verb="access_granted")
    assert SECRET not in str(event.details)
    assert event.details["with_credentials"] is True


def test_case_manager_reveals_credentials_and_the_company_sees_the_reveal(
    client, liaison, manager, case_at
):
    case = case_at("access")
    grant = api_grant(case, liaison)
    client.force_login(manager)
    response = client.post(reveal_url(case, grant))
    assert response.status_code == 200
    assert SECRET in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    event = CaseEvent.objects.get(case=case, verb="credentials_revealed")
    assert not event.internal and event.actor == manager
    assert event.details["role"] == "Case manager"


def test_assigned_evaluator_may_reveal_credentials(client, liaison, manager, evaluator, case_at):
    case = case_at("access")
    grant = api_grant(case, liaison)
    assign_evaluator(case=case, actor=manager, evaluator=evaluator)
    client.force_login(evaluator)
    assert client.post(reveal_url(case, grant)).status_code == 200
    assert reveals(case) == 1


@pytest.mark.parametrize(
    "who,status", [("other_liaison", 404), ("other_evaluator", 404), ("liaison", 403)]
)
def test_outsiders_cannot_reveal_and_leave_no_reveal_event(client, cast, case_at, who, status):
    case = case_at("access")
    grant = api_grant(case, cast.liaison)
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    client.force_login(getattr(cast, who))
    response = client.post(reveal_url(case, grant))
    assert response.status_code == status
    assert SECRET not in response.content.decode()
    assert reveals(case) == 0


def test_auditor_cannot_reveal_credentials(client, cast, case_at):
    case = case_at("access")
    grant = api_grant(case, cast.liaison)
    client.force_login(cast.auditor)
    assert client.post(reveal_url(case, grant)).status_code == 403
    assert reveals(case) == 0


def test_reveal_service_refuses_an_unassigned_evaluator(cast, case_at):
    case = case_at("access")
    grant = api_grant(case, cast.liaison)
    with pytest.raises(CaseNotFound):
        services.reveal_credentials(grant=grant, actor=cast.other_evaluator)


def test_company_sees_the_reveal_on_its_timeline_but_cannot_reveal(
    client, liaison, manager, case_at
):
    case = case_at("access")
    grant = api_grant(case, liaison)
    services.reveal_credentials(grant=grant, actor=manager)
    client.force_login(liaison)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Credentials revealed" in page
    assert "Reveal credentials" not in page


def test_non_https_endpoint_is_refused_with_what_was_typed_kept(client, liaison, case_at):
    case = case_at("access")
    client.force_login(liaison)
    response = client.post(
        reverse("submissions:grant_new", kwargs={"number": case.number}),
        {
            "method": AccessMethod.API_ENDPOINT,
            "api_url": "http://eval.acme.example/v1",
            "api_credentials": "typed-token",
            "nda_reference": "NDA-typed",
            "valid_until": (timezone.now() + dt.timedelta(days=9)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "must start with https://" in page
    assert "NDA-typed" in page and "http://eval.acme.example/v1" in page
    assert not AccessGrant.objects.filter(case=case).exists()


def test_service_refuses_non_https_endpoint_and_missing_expiry(liaison, case_at):
    case = case_at("access")
    with pytest.raises(services.BadInput) as refusal:
        services.grant_access(
            case=case, actor=liaison, method=AccessMethod.API_ENDPOINT, endpoint_url="http://x.io"
        )
    assert any("https://" in b for b in refusal.value.blockers)
    assert any("expires" in b for b in refusal.value.blockers)
    assert not AccessGrant.objects.filter(case=case).exists()


def test_liaison_revokes_a_grant_and_the_gate_closes(client, liaison, case_at):
    case = case_at("access")
    grant = api_grant(case, liaison)
    assert gate_blockers(case, "verify_access") == []
    client.force_login(liaison)
    response = client.post(
        reverse("submissions:grant_revoke", kwargs={"number": case.number, "pk": grant.pk}),
        {"reason": "The endpoint moves to a new region.", "confirm": "on"},
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by == liaison
    assert "No access grant is live" in gate_blockers(case, "verify_access")[0]
    assert CaseEvent.objects.filter(case=case, verb="access_revoked").exists()


def test_other_company_cannot_revoke(client, liaison, other_liaison, case_at):
    case = case_at("access")
    grant = api_grant(case, liaison)
    client.force_login(other_liaison)
    url = reverse("submissions:grant_revoke", kwargs={"number": case.number, "pk": grant.pk})
    assert client.post(url).status_code == 404
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_verify_access_gate_wants_a_grant(case_at):
    assert gate_blockers(case_at("access"), "verify_access") == [
        "No model access has been granted yet."
    ]


def test_verify_access_gate_wants_an_nda(liaison, case_at):
    case = case_at("access")
    api_grant(case, liaison, nda_reference="", nda_signed_on=None)
    assert gate_blockers(case, "verify_access") == [
        "No live access grant has an NDA recorded (reference and signing date)."
    ]


def test_verify_access_gate_wants_a_verified_checksum_for_uploaded_weights(liaison, case_at):
    case = case_at("access")
    api_grant(case, liaison, method=AccessMethod.WEIGHTS_UPLOAD, endpoint_url="")
    assert gate_blockers(case, "verify_access") == [
        "The uploaded weights' checksum has not been verified for version v1.0-rc1."
    ]


def test_verify_access_gate_refuses_an_expired_grant(liaison, case_at):
    case = case_at("access")
    grant = api_grant(case, liaison)
    AccessGrant.objects.filter(pk=grant.pk).update(
        valid_until=timezone.now() - dt.timedelta(minutes=1)
    )
    assert "No access grant is live" in gate_blockers(case, "verify_access")[0]


def test_grant_after_withdrawal_is_refused(liaison, case_at):
    from review.services import withdraw

    case = withdraw(case=case_at("access"), actor=liaison)
    with pytest.raises(ActionRefused, match="withdrawn"):
        api_grant(case, liaison)


def test_reencrypt_command_moves_credentials_to_the_new_key(liaison, case_at, settings):
    old_key = settings.CREDENTIAL_ENCRYPTION_KEYS[0]
    case = case_at("access")
    grant = api_grant(case, liaison)
    new_key = crypto.generate_key()
    settings.CREDENTIAL_ENCRYPTION_KEYS = [new_key, old_key]
    webhook, webhook_secret = register_webhook(owner=liaison, url="https://hooks.acme.example/x")
    out = io.StringIO()
    call_command("reencrypt_credentials", stdout=out)
    assert "Re-encrypted 2 secret(s)" in out.getvalue()
    settings.CREDENTIAL_ENCRYPTION_KEYS = [new_key]  # the old key is retired
    grant.refresh_from_db()
    webhook.refresh_from_db()
    assert crypto.decrypt(grant.credentials_encrypted) == SECRET
    assert crypto.decrypt(webhook.secret_encrypted) == webhook_secret


def test_credentials_are_unreadable_without_their_key(liaison, case_at, settings):
    case = case_at("access")
    grant = api_grant(case, liaison)
    settings.CREDENTIAL_ENCRYPTION_KEYS = [crypto.generate_key()]
    with pytest.raises(crypto.CredentialsUnreadable):
        crypto.decrypt(grant.credentials_encrypted)


def test_demo_grant_passes_the_gate(liaison, case_at):
    case = case_at("access")
    demo.grant_access(case, liaison)
    assert gate_blockers(case, "verify_access") == []


def test_a_weights_grant_leads_to_the_upload_page(client, liaison, case_at):
    case = case_at("access")
    client.force_login(liaison)
    response = client.post(
        reverse("submissions:grant_new", kwargs={"number": case.number}),
        {
            "method": AccessMethod.WEIGHTS_UPLOAD,
            "nda_reference": "NDA-9",
            "nda_signed_on": timezone.localdate().isoformat(),
            "valid_until": (timezone.now() + dt.timedelta(days=9)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    grant = AccessGrant.objects.get(case=case)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/access/{grant.pk}/weights/")
    page = client.get(response["Location"])
    assert page.status_code == 200 and 'name="expected_sha256"' in page.content.decode()


def grant_form_post(client, case, **fields):
    until = (timezone.now() + dt.timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")
    return client.post(
        reverse("submissions:grant_new", kwargs={"number": case.number}),
        {"nda_reference": "NDA-7", "valid_until": until} | fields,
    )


def test_the_access_form_groups_each_methods_fields_under_its_legend(client, liaison, case_at):
    case = case_at("access")
    client.force_login(liaison)
    page = client.get(reverse("submissions:grant_new", kwargs={"number": case.number}))
    body = page.content.decode()
    # Every group is in the page (it works without a script), each a fieldset with a legend.
    for method, names in (
        ("weights_upload", ["upload_instructions"]),
        ("api_endpoint", ["api_url", "api_credentials", "api_instructions"]),
        ("container_registry", ["registry_url", "registry_credentials", "registry_instructions"]),
    ):
        group = body.split(f'data-testid="access-method-{method}"')[1].split("</fieldset>")[0]
        assert "<legend" in group and AccessMethod(method).label in group
        for name in names:
            assert f'name="{name}"' in group
    assert body.count('type="radio" class="usa-radio__input" name="method"') == 3
    assert "checked" not in body.split('name="method"')[1].split("</fieldset>")[0]
    assert "js/access-method" in body


def test_the_chosen_methods_fields_are_required(client, liaison, case_at):
    case = case_at("access")
    client.force_login(liaison)
    unchosen = grant_form_post(client, case, api_url="https://eval.acme.example/v1")
    assert unchosen.status_code == 400
    assert "Choose how CAISI will reach the model." in unchosen.content.decode()
    # The registry's address is asked for, though the API endpoint's was typed.
    registry = grant_form_post(
        client, case, method="container_registry", api_url="https://eval.acme.example/v1"
    )
    assert registry.status_code == 400
    assert "Give the https address of the container registry." in registry.content.decode()
    assert not AccessGrant.objects.filter(case=case).exists()


def test_only_the_chosen_methods_fields_are_stored(client, liaison, manager, case_at):
    case = case_at("access")
    client.force_login(liaison)
    response = grant_form_post(
        client,
        case,
        method="container_registry",
        registry_url="https://registry.acme.example",
        registry_credentials="registry-token",
        registry_instructions="docker pull atlas",
        # Typed before changing method: never stored, and a bad address is not held against it.
        api_url="http://not-https.example",
        api_credentials="api-key-typed-first",
        api_instructions="POST /v1/chat",
        upload_instructions="untar it",
    )
    assert response.status_code == 302
    grant = AccessGrant.objects.get(case=case)
    assert grant.method == AccessMethod.CONTAINER_REGISTRY
    assert grant.endpoint_url == "https://registry.acme.example"
    assert grant.instructions == "docker pull atlas"
    assert services.reveal_credentials(grant=grant, actor=manager) == "registry-token"


def test_a_weights_upload_keeps_no_endpoint_or_credentials(client, liaison, case_at):
    case = case_at("access")
    client.force_login(liaison)
    response = grant_form_post(
        client,
        case,
        method="weights_upload",
        upload_instructions="safetensors, bf16",
        api_url="https://eval.acme.example/v1",
        api_credentials="should-not-be-kept",
        registry_url="https://registry.acme.example",
    )
    assert response.status_code == 302
    grant = AccessGrant.objects.get(case=case)
    assert grant.endpoint_url == "" and grant.instructions == "safetensors, bf16"
    assert crypto.decrypt(grant.credentials_encrypted) == ""
