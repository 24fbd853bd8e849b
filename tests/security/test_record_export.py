"""The review's record, exported whole: signed, complete, and checkable offline.

Every tampering a holder of the ZIP could try is named by the verifier: a
flipped byte in any file, a removed timeline line, an edited manifest, a
manifest re-signed with another key. The company's record holds nothing
internal to CAISI, and an outsider cannot download any record.
"""

import base64
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from accounts import services as accounts_services
from cases import services as case_services
from cases.models import CaseEvent
from clearance import services as clearance_services
from clearance.management.commands.create_signing_identity import write_signing_identity
from core import exportcheck
from findings import services as findings_services
from findings.models import Category, Severity
from incidents.services import add_incident_note
from review import services
from tests.clearance.conftest import signing_identity, statement_settings  # noqa: F401
from tests.incidents.helpers import incident_on, released

pytestmark = pytest.mark.usefixtures("statement_settings")

INTERNAL_NOTE = "INTERNAL-NOTE-6613: the company's safety report undersells the jailbreaks."
SHARED_MESSAGE = "SHARED-MESSAGE-6613: please confirm the endpoint's rate limit."
DRAFT_TITLE = "DRAFT-FINDING-6613 prompt injection through tool output"
CREDENTIAL = "eval-tenant-key-7f3a9c"  # the demo's access credential


@pytest.fixture
def cleared_case(cast, case_at):
    """A cleared Acme case with a signed statement PDF, a message and an internal note."""
    case = case_at("cleared")
    statement = case.clearance_statements.get()
    clearance_services.render_statement_pdf(statement_id=statement.pk)
    case_services.post_message(case=case, actor=cast.liaison, body=SHARED_MESSAGE)
    case_services.post_message(case=case, actor=cast.manager, body=INTERNAL_NOTE, internal=True)
    return case


@pytest.fixture
def testing_case(cast, case_at):
    """An Acme case in testing with a draft finding, an evaluation and an internal note."""
    case = case_at("testing")
    services.assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    run = findings_services.record_evaluation_run(
        case=case,
        actor=cast.evaluator,
        category=Category.ADVERSARIAL_ROBUSTNESS,
        title="Jailbreak suite EVAL-6613",
        metrics={"attack_success_rate": 0.12},
    )
    findings_services.draft_finding(
        case=case,
        actor=cast.evaluator,
        severity=Severity.HIGH,
        category=Category.ADVERSARIAL_ROBUSTNESS,
        title=DRAFT_TITLE,
        description="Found by the jailbreak suite.",
        evaluation=run,
    )
    case_services.post_message(case=case, actor=cast.liaison, body=SHARED_MESSAGE)
    case_services.post_message(case=case, actor=cast.manager, body=INTERNAL_NOTE, internal=True)
    return case


def export(case, actor, tmp_path: Path, name="record.zip", **kwargs) -> Path:
    path = tmp_path / name
    with open(path, "wb") as stream:
        services.export_record(case=case, actor=actor, output=stream, **kwargs)
    return path


def verify(path: Path) -> str:
    out = io.StringIO()
    call_command("verify_export", str(path), stdout=out)
    return out.getvalue()


def rewrite(source: Path, target: Path, change) -> Path:
    """Copy the archive member by member, letting `change(name, data)` alter or drop each."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            data = change(name, old.read(name))
            if data is not None:
                new.writestr(name, data)
    return target


def all_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())


def manifest_of(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("manifest.json"))


def resign(raw: bytes, key_path: Path, passphrase: str | None) -> bytes:
    key = serialization.load_pem_private_key(
        key_path.read_bytes(), password=passphrase.encode() if passphrase else None
    )
    return key.sign(raw, padding.PKCS1v15(), hashes.SHA256())


# --- a clean record ------------------------------------------------------------------------


def test_clean_export_holds_the_whole_record_and_verifies(cast, cleared_case, tmp_path):
    path = export(cleared_case, cast.manager, tmp_path)
    out = verify(path)
    assert f"{cleared_case.number}: record intact" in out

    manifest = manifest_of(path)
    names = {entry["path"] for entry in manifest["files"]}
    assert {
        "case.json",
        "timeline.jsonl",
        "versions.json",
        "access.json",
        "documents.json",
        "evaluations.json",
        "findings.json",
        "clarifications.json",
        "messages.json",
        "statements.json",
        "verify.py",
        "signing-certificate.pem",
    } <= names
    statement = cleared_case.clearance_statements.get()
    pdf = next(e for e in manifest["files"] if e["path"].startswith("statements/"))
    assert pdf["sha256"] == statement.pdf_sha256
    assert any(n.startswith("documents/") for n in names)
    assert manifest["format_version"] == exportcheck.FORMAT_VERSION
    assert manifest["exported_by"]["email"] == cast.manager.email
    assert manifest["case"]["number"] == cleared_case.number
    events = cleared_case.events.exclude(verb="record_exported")
    assert manifest["timeline"]["events"] == events.count()
    assert manifest["timeline"]["head"]["hash"] == events.order_by("-seq").first().hash
    assert INTERNAL_NOTE in all_text(path)


def test_export_is_a_timeline_event_naming_the_manifest(cast, cleared_case, tmp_path):
    path = export(cleared_case, cast.manager, tmp_path)
    event = cleared_case.events.order_by("-seq").first()
    with zipfile.ZipFile(path) as archive:
        raw = archive.read("manifest.json")
    assert event.verb == "record_exported" and event.internal
    assert event.details["manifest_sha256"] == hashlib.sha256(raw).hexdigest()
    assert case_services.verify_chain(cleared_case) is None


def test_company_export_is_a_timeline_event_the_company_sees(cast, cleared_case, tmp_path):
    export(cleared_case, cast.liaison, tmp_path)
    event = cleared_case.events.order_by("-seq").first()
    assert (event.verb, event.internal, event.details["audience"]) == (
        "record_exported",
        False,
        "company",
    )


def test_record_holds_no_credential(cast, cleared_case, tmp_path):
    grant = cleared_case.access_grants.get()
    assert grant.credentials_encrypted
    for actor in (cast.manager, cast.liaison):
        text = all_text(export(cleared_case, actor, tmp_path, name=f"{actor.pk}.zip"))
        assert CREDENTIAL not in text
        assert grant.credentials_encrypted not in text
        assert '"credentials_on_record": true' in text


def test_endpoint_userinfo_and_query_are_left_out_of_the_record(cast, cleared_case, tmp_path):
    from review.export import _without_secrets

    assert (
        _without_secrets("https://user:pa55@models.example:8443/v1?api_key=k3y")
        == "https://models.example:8443/v1"
    )


def test_standalone_verify_py_from_the_zip_checks_the_record(cast, cleared_case, tmp_path):
    path = export(cleared_case, cast.manager, tmp_path)
    folder = tmp_path / "unpacked"
    folder.mkdir()
    with zipfile.ZipFile(path) as archive:
        script = archive.read("verify.py")
    assert script == Path(exportcheck.__file__).read_bytes()  # one implementation
    (folder / "verify.py").write_bytes(script)
    fingerprint = manifest_of(path)["signature"]["certificate_sha256"]

    def run(archive: Path):
        return subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "-I", "verify.py", "--certificate-sha256", fingerprint, str(archive)],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
        )

    clean = run(path)
    assert clean.returncode == 0, clean.stderr
    assert "record intact" in clean.stdout

    tampered = rewrite(
        path,
        tmp_path / "tampered.zip",
        lambda n, d: (
            d.replace(SHARED_MESSAGE.encode(), b"X" * len(SHARED_MESSAGE))
            if n == "messages.json"
            else d
        ),
    )
    failed = run(tampered)
    assert failed.returncode == 1
    assert "messages.json" in failed.stderr


# --- tampering, each named -------------------------------------------------------------------


def test_one_flipped_byte_in_any_file_is_named(cast, cleared_case, tmp_path):
    path = export(cleared_case, cast.manager, tmp_path)
    names = [entry["path"] for entry in manifest_of(path)["files"]]
    names += ["manifest.json", "manifest.json.sig"]
    for index, name in enumerate(names):

        def flip(member, data, name=name):
            if member != name:
                return data
            middle = len(data) // 2
            return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]

        tampered = rewrite(path, tmp_path / f"flip-{index}.zip", flip)
        with pytest.raises(CommandError, match="NOT VERIFIED") as failure:
            verify(tampered)
        culprit = str(failure.value)
        if name == "manifest.json":
            assert "manifest.json" in culprit
        elif name in ("manifest.json.sig", "signing-certificate.pem"):
            assert name in culprit or "manifest.json.sig" in culprit
        else:
            assert f"{name}:" in culprit, (name, culprit)


def test_removed_timeline_line_is_named(cast, cleared_case, tmp_path):
    path = export(cleared_case, cast.manager, tmp_path)

    def drop_third(member, data):
        if member != "timeline.jsonl":
            return data
        lines = data.decode().splitlines(keepends=True)
        return "".join(lines[:2] + lines[3:]).encode()

    tampered = rewrite(path, tmp_path / "cut.zip", drop_third)
    with pytest.raises(CommandError, match=r"timeline\.jsonl: .* bytes, but manifest\.json says"):
        verify(tampered)


def test_removed_timeline_line_with_a_forged_manifest_is_named_by_the_chain(
    cast, cleared_case, tmp_path, settings
):
    """Even one who holds the portal's key cannot remove an event unseen: the chain shows it."""
    path = export(cleared_case, cast.manager, tmp_path)
    manifest = manifest_of(path)
    with zipfile.ZipFile(path) as archive:
        lines = archive.read("timeline.jsonl").decode().splitlines(keepends=True)
    timeline = "".join(lines[:2] + lines[3:]).encode()
    for entry in manifest["files"]:
        if entry["path"] == "timeline.jsonl":
            entry.update(sha256=hashlib.sha256(timeline).hexdigest(), size=len(timeline))
    manifest["timeline"]["events"] -= 1
    raw = json.dumps(manifest).encode()
    signature = resign(
        raw, Path(settings.CLEARANCE_SIGNING_KEY), settings.CLEARANCE_SIGNING_PASSPHRASE
    )
    replaced = {"timeline.jsonl": timeline, "manifest.json": raw, "manifest.json.sig": signature}
    tampered = rewrite(path, tmp_path / "forged.zip", lambda n, d: replaced.get(n, d))
    with pytest.raises(
        CommandError, match=r"timeline\.jsonl line 3: event #4 where #3 was due \(event #3 is"
    ):
        verify(tampered)


def test_forged_event_with_a_resigned_manifest_is_named_by_its_hash(
    cast, cleared_case, tmp_path, settings
):
    path = export(cleared_case, cast.manager, tmp_path)
    manifest = manifest_of(path)
    with zipfile.ZipFile(path) as archive:
        lines = archive.read("timeline.jsonl").decode().splitlines(keepends=True)
    issued = next(i for i, line in enumerate(lines) if '"verb":"issue_clearance"' in line)
    event = json.loads(lines[issued])
    event["details"]["scope"] = "Any use whatsoever."
    lines[issued] = json.dumps(event, sort_keys=True, separators=(",", ":")) + "\n"
    timeline = "".join(lines).encode()
    for entry in manifest["files"]:
        if entry["path"] == "timeline.jsonl":
            entry.update(sha256=hashlib.sha256(timeline).hexdigest(), size=len(timeline))
    raw = json.dumps(manifest).encode()
    signature = resign(
        raw, Path(settings.CLEARANCE_SIGNING_KEY), settings.CLEARANCE_SIGNING_PASSPHRASE
    )
    replaced = {"timeline.jsonl": timeline, "manifest.json": raw, "manifest.json.sig": signature}
    tampered = rewrite(path, tmp_path / "forged-event.zip", lambda n, d: replaced.get(n, d))
    with pytest.raises(
        CommandError,
        match=rf"line {issued + 1}: event #{event['seq']}'s hash does not match what it records",
    ):
        verify(tampered)


def test_edited_manifest_is_named(cast, cleared_case, tmp_path):
    path = export(cleared_case, cast.manager, tmp_path)
    manifest = manifest_of(path)
    manifest["case"]["title"] = "A different review"
    tampered = rewrite(
        path,
        tmp_path / "edited.zip",
        lambda n, d: json.dumps(manifest).encode() if n == "manifest.json" else d,
    )
    with pytest.raises(CommandError, match=r"manifest\.json\.sig: the signature over manifest"):
        verify(tampered)


def test_manifest_resigned_with_another_key_is_named(cast, cleared_case, tmp_path):
    path = export(cleared_case, cast.manager, tmp_path)
    key, cert = tmp_path / "forger.key", tmp_path / "forger.crt"
    forger = write_signing_identity(key_path=key, cert_path=cert)
    fingerprint = forger.fingerprint(hashes.SHA256()).hex()
    manifest = manifest_of(path)
    manifest["case"]["title"] = "A different review"
    manifest["signature"]["certificate_sha256"] = fingerprint
    raw = json.dumps(manifest).encode()
    replaced = {
        "manifest.json": raw,
        "manifest.json.sig": resign(raw, key, None),
        "signing-certificate.pem": cert.read_bytes(),
    }
    tampered = rewrite(path, tmp_path / "resigned.zip", lambda n, d: replaced.get(n, d))
    with pytest.raises(
        CommandError, match=rf"manifest\.json\.sig: signed with the certificate {fingerprint}"
    ):
        verify(tampered)
    # With the old certificate left in place, the signature itself fails.
    replaced.pop("signing-certificate.pem")
    manifest["signature"]["certificate_sha256"] = manifest_of(path)["signature"][
        "certificate_sha256"
    ]
    raw = json.dumps(manifest).encode()
    replaced.update({"manifest.json": raw, "manifest.json.sig": resign(raw, key, None)})
    tampered = rewrite(path, tmp_path / "resigned-2.zip", lambda n, d: replaced.get(n, d))
    with pytest.raises(CommandError, match=r"the signature over manifest\.json does not hold"):
        verify(tampered)


def test_extra_file_slipped_in_is_named(cast, cleared_case, tmp_path):
    path = export(cleared_case, cast.manager, tmp_path)
    tampered = tmp_path / "extra.zip"
    tampered.write_bytes(path.read_bytes())
    with zipfile.ZipFile(tampered, "a") as archive:
        archive.writestr("documents/99-addendum.md", b"CAISI also cleared open weights.")
    with pytest.raises(CommandError, match=r"documents/99-addendum\.md: in the archive but not"):
        verify(tampered)


def test_not_a_zip_is_a_clear_refusal(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(CommandError, match="not a readable ZIP archive"):
        verify(junk)


def test_signature_checks_with_openssl_semantics_and_the_shipped_certificate(
    cast, cleared_case, tmp_path
):
    path = export(cleared_case, cast.manager, tmp_path)
    with zipfile.ZipFile(path) as archive:
        raw = archive.read("manifest.json")
        signature = archive.read("manifest.json.sig")
        cert = x509.load_pem_x509_certificate(archive.read("signing-certificate.pem"))
    cert.public_key().verify(signature, raw, padding.PKCS1v15(), hashes.SHA256())
    assert base64.b64encode(signature)


# --- confidentiality -----------------------------------------------------------------------


def test_company_export_has_nothing_internal(cast, testing_case, tmp_path):
    path = export(testing_case, cast.liaison, tmp_path)
    assert f"{testing_case.number}: record intact" in verify(path)
    text = all_text(path)
    assert SHARED_MESSAGE in text
    for secret in (
        INTERNAL_NOTE,
        DRAFT_TITLE,
        "EVAL-6613",
        cast.evaluator.email,
        str(cast.evaluator),
    ):
        assert secret not in text, secret
    manifest = manifest_of(path)
    assert manifest["audience"] == "company"
    assert "evaluators" not in manifest["case"]
    assert not any(e["path"].startswith("evaluation") for e in manifest["files"])

    with zipfile.ZipFile(path) as archive:
        lines = [json.loads(line) for line in archive.read("timeline.jsonl").splitlines()]
    internal = set(
        CaseEvent.objects.filter(case=testing_case, internal=True).values_list("seq", "hash")
    )
    assert internal
    withheld = [line for line in lines if line.get("withheld")]
    assert {line["seq"] for line in withheld} == {seq for seq, _ in internal}
    assert all(set(line) == {"seq", "withheld"} for line in withheld)
    # No hash of an internal event, not even as the link of the one after it.
    shown = json.dumps(lines)
    assert not any(hash_ in shown for _, hash_ in internal)


def test_staff_export_of_the_same_case_has_the_internal_material(cast, testing_case, tmp_path):
    path = export(testing_case, cast.auditor, tmp_path)
    text = all_text(path)
    for expected in (INTERNAL_NOTE, DRAFT_TITLE, "EVAL-6613", str(cast.evaluator)):
        assert expected in text


def test_staff_may_write_the_company_record(cast, testing_case, tmp_path):
    path = export(testing_case, cast.manager, tmp_path, company_view=True)
    assert manifest_of(path)["audience"] == "company"
    assert INTERNAL_NOTE not in all_text(path)


@pytest.mark.parametrize("outsider", ["other_liaison", "other_evaluator"])
def test_outsider_gets_404_on_the_download(cast, cleared_case, outsider):
    client = Client()
    client.force_login(getattr(cast, outsider))
    url = reverse("cases:record_export", kwargs={"number": cleared_case.number})
    before = cleared_case.events.count()
    assert client.post(url).status_code == 404
    assert cleared_case.events.count() == before


@pytest.mark.parametrize("outsider", ["other_liaison", "other_evaluator"])
def test_outsider_service_call_is_refused_as_not_found(cast, cleared_case, outsider, tmp_path):
    with pytest.raises(case_services.CaseNotFound):
        export(cleared_case, getattr(cast, outsider), tmp_path)


def test_company_downloads_its_own_record_from_the_case_page(cast, testing_case):
    client = Client()
    client.force_login(cast.liaison)
    page = client.get(testing_case.get_absolute_url())
    assert b'data-testid="record-export"' in page.content
    url = reverse("cases:record_export", kwargs={"number": testing_case.number})
    assert client.get(url).status_code == 405  # an export is recorded: never on a GET
    response = client.post(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "-record-company.zip" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert INTERNAL_NOTE.encode() not in archive.read("messages.json")
        assert json.loads(archive.read("manifest.json"))["audience"] == "company"


def test_staff_download_from_the_case_page_is_the_whole_record(cast, testing_case):
    client = Client()
    client.force_login(cast.manager)
    url = reverse("cases:record_export", kwargs={"number": testing_case.number})
    response = client.post(url)
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert INTERNAL_NOTE.encode() in archive.read("messages.json")


def test_download_without_a_signing_identity_is_a_clear_refusal(cast, testing_case, settings):
    settings.CLEARANCE_SIGNING_KEY = "/nonexistent/statement.key"
    client = Client()
    client.force_login(cast.manager)
    url = reverse("cases:record_export", kwargs={"number": testing_case.number})
    before = testing_case.events.count()
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert b"cannot be signed now" in response.content
    assert testing_case.events.count() == before


# --- the API --------------------------------------------------------------------------------


def token_client(user) -> Client:
    _, token = accounts_services.create_api_token(user=user, name="export test")
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_staff_token_downloads_the_record(cast, cleared_case, tmp_path):
    response = token_client(cast.auditor).get(f"/api/v1/cases/{cleared_case.number}/export/")
    assert response.status_code == 200, response.content
    path = tmp_path / "api.zip"
    path.write_bytes(b"".join(response.streaming_content))
    assert "record intact" in verify(path)
    assert INTERNAL_NOTE in all_text(path)


def test_company_token_is_refused_the_api_export(cast, cleared_case):
    response = token_client(cast.liaison).get(f"/api/v1/cases/{cleared_case.number}/export/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("outsider", ["other_liaison", "other_evaluator"])
def test_outsider_token_gets_404_on_the_api_export(cast, cleared_case, outsider):
    response = token_client(getattr(cast, outsider)).get(
        f"/api/v1/cases/{cleared_case.number}/export/"
    )
    assert response.status_code == 404


def test_export_is_in_the_api_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/cases/{number}/export/"]["get"]
    assert operation["operationId"] == "cases_export"
    assert "application/zip" in operation["responses"]["200"]["content"]


# --- the command line ----------------------------------------------------------------------


def test_export_case_command_writes_a_record_that_verifies(cleared_case, tmp_path):
    target = tmp_path / "cli.zip"
    out = io.StringIO()
    call_command("export_case", cleared_case.number, "--output", str(target), stdout=out)
    assert "caisi record" in out.getvalue()
    assert "record intact" in verify(target)
    manifest = manifest_of(target)
    assert manifest["exported_by"]["via"] == "manage.py export_case"
    event = cleared_case.events.order_by("-seq").first()
    assert event.verb == "record_exported" and event.actor is None


def test_export_case_command_never_overwrites_a_file(cleared_case, tmp_path):
    target = tmp_path / "keep.zip"
    target.write_bytes(b"someone's earlier export")
    with pytest.raises(CommandError, match="exists already"):
        call_command("export_case", cleared_case.number, "--output", str(target))
    assert target.read_bytes() == b"someone's earlier export"


def test_export_case_command_refuses_an_unknown_case(db, tmp_path):
    with pytest.raises(CommandError, match="No case CAISI-1999-0001"):
        call_command("export_case", "CAISI-1999-0001", "--output", str(tmp_path / "x.zip"))
    assert not (tmp_path / "x.zip").exists()


def test_the_record_holds_incidents_with_internal_notes_for_caisi_alone(
    cast,
    case_at,
    tmp_path,
    signing_identity,  # noqa: F811 - the fixture
):
    case = released(case_at, cast, title="Incident record")
    incident = incident_on(case, cast.liaison, severity="critical")
    add_incident_note(incident=incident, actor=cast.manager, body="Shared: we are on it.")
    add_incident_note(
        incident=incident, actor=cast.manager, body="INTERNAL-INCIDENT-NOTE", internal=True
    )

    staff = export(case, cast.manager, tmp_path, name="staff.zip")
    company = export(case, cast.liaison, tmp_path, name="company.zip")

    verify(staff)  # raises CommandError, naming the culprit, on a record that does not hold
    with zipfile.ZipFile(staff) as archive:
        incidents = json.loads(archive.read("incidents.json"))
    assert [i["severity"] for i in incidents] == ["critical"]
    assert [n["body"] for n in incidents[0]["notes"]] == [
        "Shared: we are on it.",
        "INTERNAL-INCIDENT-NOTE",
    ]
    assert "INTERNAL-INCIDENT-NOTE" not in all_text(company)
    assert "Shared: we are on it." in all_text(company)
