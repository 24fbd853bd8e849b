"""Tokens: who gets in, with what, and what a token may do."""

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import create_api_token, revoke_api_token

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def assert_unauthorized(response, detail: str | None = None):
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (
        body["status"] == 401
        and body["title"]
        and body["instance"] == response.request["PATH_INFO"]
    )
    if detail:
        assert detail in body["detail"]


def test_request_without_token_is_401_with_bearer_challenge(case_at):
    case = case_at("intake")
    assert_unauthorized(APIClient().get(f"/api/v1/cases/{case.number}/status/"))
    assert_unauthorized(APIClient().get("/api/v1/cases/"))


def test_unknown_token_is_401(liaison):
    create_api_token(user=liaison, name="real")
    assert_unauthorized(bearer("caisi_not-a-real-token").get("/api/v1/cases/"), "not valid")


def test_malformed_authorization_header_is_401(liaison):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer two parts")
    assert_unauthorized(client.get("/api/v1/cases/"))


def test_expired_token_is_401(liaison):
    token, raw = create_api_token(
        user=liaison, name="soon", expires_at=timezone.now() + dt.timedelta(seconds=30)
    )
    assert bearer(raw).get("/api/v1/cases/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert_unauthorized(bearer(raw).get("/api/v1/cases/"), "expired")


def test_revoked_token_is_401(liaison):
    token, raw = create_api_token(user=liaison, name="pipeline")
    assert bearer(raw).get("/api/v1/cases/").status_code == 200
    revoke_api_token(actor=liaison, token=token)
    assert_unauthorized(bearer(raw).get("/api/v1/cases/"), "revoked")


def test_token_of_deactivated_user_is_401(liaison):
    _, raw = create_api_token(user=liaison, name="pipeline")
    liaison.is_active = False
    liaison.save(update_fields=["is_active"])
    assert_unauthorized(bearer(raw).get("/api/v1/cases/"))


def test_read_only_token_reads_but_gets_403_on_every_write(case_at, liaison, token_for):
    case = case_at("intake")
    client = bearer(token_for(liaison, read_only=True))
    assert client.get(f"/api/v1/cases/{case.number}/").status_code == 200
    writes = [
        ("/api/v1/cases/", {"title": "x", "model_name": "y"}),
        (f"/api/v1/cases/{case.number}/versions/", {"label": "v2", "vcs_reference": "abc"}),
        (f"/api/v1/cases/{case.number}/actions/withdraw/", {}),
    ]
    for path, body in writes:
        response = client.post(path, body, format="json")
        assert response.status_code == 403, path
        assert "read-only" in response.json()["detail"]
    assert (
        client.patch(f"/api/v1/cases/{case.number}/", {"title": "z"}, format="json").status_code
        == 403
    )
    case.refresh_from_db()
    assert case.status == "intake" and case.title != "z"


def test_token_is_stored_only_as_its_hash(liaison):
    token, raw = create_api_token(user=liaison, name="pipeline")
    assert token.secret_sha256 == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(token.prefix) and len(token.prefix) < len(raw) // 3
    stored = ApiToken.objects.filter(pk=token.pk).values()[0]
    assert raw not in {str(v) for v in stored.values()}


def test_last_used_is_written_at_most_once_a_minute(liaison):
    token, raw = create_api_token(user=liaison, name="pipeline")
    client = bearer(raw)
    assert client.get("/api/v1/cases/").status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    assert client.get("/api/v1/cases/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first  # within the minute: no new write
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    assert client.get("/api/v1/cases/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > first


def test_create_api_token_command_prints_a_working_token(liaison, case_at):
    case = case_at("intake")
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_token",
        liaison.email,
        "--name",
        "ci",
        "--read-only",
        "--expires-in-days",
        "7",
        stdout=out,
        stderr=err,
    )
    raw = out.getvalue().strip()
    token = ApiToken.objects.get(secret_sha256=hashlib.sha256(raw.encode()).hexdigest())
    assert token.name == "ci" and token.read_only
    assert dt.timedelta(days=6) < token.expires_at - timezone.now() <= dt.timedelta(days=7)
    assert bearer(raw).get(f"/api/v1/cases/{case.number}/status/").json()["status"] == "intake"
    assert "only once" in err.getvalue()


def test_create_api_token_command_refuses_unknown_user(db):
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_token", "nobody@example.com", stdout=StringIO())


def test_person_cannot_revoke_someone_elses_token(liaison, other_liaison):
    from core.errors import ActionRefused

    token, _ = create_api_token(user=liaison, name="pipeline")
    with pytest.raises(ActionRefused):
        revoke_api_token(actor=other_liaison, token=token)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_session_owing_its_second_factor_gets_problem_details_from_the_api(client, cast):
    from django.urls import reverse

    from tests.conftest import confirmed_authenticator

    confirmed_authenticator(cast.manager)
    client.post(reverse("login"), {"username": cast.manager.email, "password": "demo-pass-2026"})
    response = client.get("/api/v1/cases/")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 403 and body["instance"] == "/api/v1/cases/"
    assert "two-step verification" in body["detail"]
