"""Security events as JSON lines: sign-in, failure, lockout, denied access, reveal, download.

The log is captured as the portal writes it: a handler with the portal's own
formatter on the security logger, so what is asserted is the text an operator reads.
"""

import datetime as dt
import io
import json
import logging

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.services import create_api_token
from core.security_log import SECURITY_LOGGER, JsonLinesFormatter
from submissions import services as submissions
from submissions.models import AccessMethod

PASSWORD = "demo-pass-2026"
SECRET = "sk-live-credential-never-logged-77"


@pytest.fixture
def security_log():
    """Return a function giving the security events written so far, parsed line by line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter())
    logger = logging.getLogger(SECURITY_LOGGER)
    logger.addHandler(handler)

    def lines() -> list[str]:
        return stream.getvalue().splitlines()

    def events() -> list[dict]:
        return [json.loads(line) for line in lines()]

    events.lines = lines
    events.text = stream.getvalue
    yield events
    logger.removeHandler(handler)


def named(events, name):
    return [event for event in events() if event["event"] == name]


def test_the_settings_send_security_events_through_the_json_formatter():
    config = django_settings.LOGGING
    handler = config["loggers"][SECURITY_LOGGER]["handlers"][0]
    formatter = config["handlers"][handler]["formatter"]
    assert config["formatters"][formatter]["()"] == "core.security_log.JsonLinesFormatter"


def test_sign_in_is_logged_with_who_and_from_where_but_no_password(client, cast, security_log):
    client.post(reverse("login"), {"username": cast.liaison.email, "password": PASSWORD})
    (event,) = named(security_log, "sign_in")
    assert event["user"] == cast.liaison.email
    assert event["user_id"] == cast.liaison.pk
    assert event["ip"] == "127.0.0.1"
    assert event["level"] == "INFO" and "time" in event
    assert PASSWORD not in security_log.text()


def test_a_failed_sign_in_is_logged_without_the_password_tried(client, cast, security_log):
    client.post(reverse("login"), {"username": cast.liaison.email, "password": "hunter2-Secret!"})
    (event,) = named(security_log, "sign_in_failed")
    assert event["username"] == cast.liaison.email
    assert "hunter2" not in security_log.text()


def test_a_lockout_is_logged(client, cast, settings, security_log):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post(reverse("login"), {"username": cast.liaison.email, "password": "wrong-1"})
    (event,) = named(security_log, "sign_in_locked_out")
    assert event["username"] == cast.liaison.email


def test_forged_lines_in_a_username_stay_inside_one_escaped_value(client, db, security_log):
    forged = 'x@example.com\n{"event":"sign_in","user":"root"}\r\x1b[2J\u2028end'
    client.post(reverse("login"), {"username": forged, "password": "wrong-1"})
    lines = security_log.lines()
    assert len(lines) == 1
    assert "\n" not in lines[0] and "\r" not in lines[0] and "\x1b" not in lines[0]
    assert "\u2028" not in lines[0]
    (event,) = security_log()
    assert event["event"] == "sign_in_failed"
    assert event["username"] == forged[:200]


def test_an_overlong_value_is_cut(client, db, security_log):
    response = client.post(
        reverse("login"), {"username": "a" * 5000 + "@example.com", "password": "x"}
    )
    assert response.status_code == 200  # a clear form error, not a 500
    (event,) = security_log()
    assert len(event["username"]) <= 201


def test_fields_named_like_secrets_are_never_written(security_log):
    from core.security_log import security_event

    security_event("probe", api_token="tok-123", password="pw-456", webhook_secret="s-789")
    text = security_log.text()
    assert "tok-123" not in text and "pw-456" not in text and "s-789" not in text


def test_sign_out_and_second_factor_are_logged(client, cast, security_log):
    from tests.conftest import confirmed_authenticator, current_totp_code

    device = confirmed_authenticator(cast.manager)
    client.post(reverse("login"), {"username": cast.manager.email, "password": PASSWORD})
    client.post(reverse("accounts:mfa_verify"), {"code": "000000x"})
    code = current_totp_code(device)
    client.post(reverse("accounts:mfa_verify"), {"code": code})
    client.post(reverse("logout"))
    names = [event["event"] for event in security_log()]
    assert names == ["sign_in", "second_factor_failed", "second_factor_passed", "sign_out"]
    assert code not in security_log.text()


@pytest.mark.parametrize("who", ["other_liaison", "other_evaluator"])
def test_denied_access_to_a_case_is_logged(client, cast, case_at, security_log, who):
    case = case_at("triage")
    client.force_login(getattr(cast, who))
    assert client.get(case.get_absolute_url()).status_code == 404
    (event,) = named(security_log, "access_denied")
    assert event["status"] == 404
    assert event["case"] == case.number
    assert event["user"] == getattr(cast, who).email


def test_denied_api_access_is_logged_without_the_token(client, cast, case_at, security_log):
    case = case_at("triage")
    _, raw = create_api_token(user=cast.other_liaison, name="pipeline")
    response = client.get(
        f"/api/v1/cases/{case.number}/status/", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 404
    (event,) = named(security_log, "access_denied")
    assert event["case"] == case.number and event["user"] == cast.other_liaison.email
    assert raw not in security_log.text()


def test_a_credential_reveal_is_logged_without_the_credential(client, cast, case_at, security_log):
    case = case_at("access")
    grant = submissions.grant_access(
        case=case,
        actor=cast.liaison,
        method=AccessMethod.API_ENDPOINT,
        endpoint_url="https://eval.acme.example/v1",
        credentials=SECRET,
        nda_reference="NDA-7",
        nda_signed_on=timezone.localdate(),
        valid_until=timezone.now() + dt.timedelta(days=30),
    )
    client.force_login(cast.manager)
    url = reverse("submissions:grant_reveal", kwargs={"number": case.number, "pk": grant.pk})
    assert client.post(url).status_code == 200
    (event,) = named(security_log, "credential_revealed")
    assert event["case"] == case.number and event["grant_id"] == grant.pk
    assert event["user"] == cast.manager.email
    assert SECRET not in security_log.text()


def test_a_download_is_logged(client, cast, case_at, settings, tmp_path, security_log):
    settings.MEDIA_ROOT = tmp_path
    case = case_at("documentation")
    document = submissions.upload_document(
        case=case,
        actor=cast.liaison,
        kind="deployment_plan",
        file=SimpleUploadedFile("plan.pdf", b"%PDF-1.4\n%%EOF\n"),
        original_name="plan.pdf",
    )
    client.force_login(cast.manager)
    url = reverse(
        "submissions:document_download", kwargs={"number": case.number, "pk": document.pk}
    )
    assert client.get(url).status_code == 200
    (event,) = named(security_log, "download")
    assert event["case"] == case.number and event["object_id"] == document.pk
    assert event["user"] == cast.manager.email
