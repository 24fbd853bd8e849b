"""Secure uploads: streamed, capped, sniffed, hashed, stored under random names."""

import hashlib
import json
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import CaseEvent
from submissions import services
from submissions.models import AccessMethod, Document
from tests.submissions.conftest import (
    MODEL_CARD,
    PDF,
    multipart,
    post_multipart,
    stored_files,
)

pytestmark = pytest.mark.django_db


def upload_url(case):
    return reverse("submissions:document_upload", kwargs={"number": case.number})


def doc_fields(kind="deployment_plan", **extra):
    return {"kind": kind, "report_type": "", "title": "Plan", **extra}


def raw_upload(client, case, filename, content, *, content_type="application/pdf", **kw):
    body = multipart(doc_fields(), [("file", filename, content, content_type)])
    return post_multipart(client, upload_url(case), body, **kw)


def assert_nothing_stored(case):
    assert not Document.objects.filter(case=case).exists()
    assert stored_files() == []
    assert not CaseEvent.objects.filter(case=case, verb="document_uploaded").exists()


def test_liaison_uploads_a_pdf_stored_under_a_random_name_with_its_digest(liaison_client, case_at):
    case = case_at("intake")
    response = liaison_client.post(
        upload_url(case),
        {**doc_fields(), "file": SimpleUploadedFile("Deployment plan.pdf", PDF)},
    )
    assert response.status_code == 302
    doc = Document.objects.get(case=case)
    assert doc.original_name == "Deployment plan.pdf"
    assert doc.sha256 == hashlib.sha256(PDF).hexdigest()
    assert doc.size == len(PDF)
    assert doc.content_type == "application/pdf"
    assert "Deployment" not in doc.file.name and not doc.file.name.endswith(".pdf")
    assert stored_files("documents") == [doc.file.name.removeprefix("documents/")]
    event = CaseEvent.objects.get(case=case, verb="document_uploaded")
    assert event.details["sha256"] == doc.sha256


def test_a_second_upload_of_a_kind_is_a_new_version_and_both_stay(liaison_client, case_at):
    case = case_at("intake")
    for content in (PDF, PDF + b"% revised\n"):
        liaison_client.post(
            upload_url(case), {**doc_fields(), "file": SimpleUploadedFile("plan.pdf", content)}
        )
    versions = list(Document.objects.filter(case=case).values_list("version_number", flat=True))
    assert sorted(versions) == [1, 2]
    assert len(stored_files("documents")) == 2


def test_xhr_upload_answers_json_with_where_to_go(liaison_client, case_at):
    case = case_at("intake")
    response = liaison_client.post(
        upload_url(case),
        {**doc_fields(), "file": SimpleUploadedFile("plan.pdf", PDF)},
        headers={"x-requested-with": "XMLHttpRequest"},
    )
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["redirect"].endswith("/documents/")


@pytest.mark.parametrize(
    "filename,content,message",
    [
        ("empty.pdf", b"", "empty"),
        ("page.pdf", b"<!doctype html><html><script>alert(1)</script></html>", "not a PDF"),
        ("tool.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200, "program"),
        ("tool.md", b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "program"),
        ("page.md", b"  <html><body>hi</body></html>", "HTML"),
        ("data.json", b"{not json", "not valid JSON"),
        ("blob.txt", b"abc\x00\x01\x02", "binary"),
        ("macro.docx", b"PK\x03\x04....", "Only PDF"),
    ],
)
def test_bad_document_content_is_refused_with_a_message_and_nothing_stored(
    liaison_client, case_at, filename, content, message
):
    case = case_at("intake")
    response = liaison_client.post(
        upload_url(case),
        {**doc_fields(title="My typed title"), "file": SimpleUploadedFile(filename, content)},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'value="My typed title"' in response.content.decode()  # nothing typed is lost
    assert_nothing_stored(case)


def test_bad_document_refusal_answers_json_errors_to_the_progress_bar(liaison_client, case_at):
    case = case_at("intake")
    response = liaison_client.post(
        upload_url(case),
        {**doc_fields(), "file": SimpleUploadedFile("page.pdf", b"<html></html>")},
        headers={"x-requested-with": "XMLHttpRequest"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["ok"] is False and any("not a PDF" in e for e in body["errors"])


def test_document_over_the_size_limit_is_refused_while_streaming(liaison_client, case_at, settings):
    settings.SUBMISSION_DOCUMENT_MAX_BYTES = 1024
    case = case_at("intake")
    response = liaison_client.post(
        upload_url(case),
        {**doc_fields(), "file": SimpleUploadedFile("big.pdf", PDF + b"0" * 4096)},
    )
    assert response.status_code == 400
    assert "larger than the limit of 1 KiB" in response.content.decode()
    assert_nothing_stored(case)


@pytest.mark.parametrize(
    "raw_name,message",
    [
        ("../../etc/plan.pdf", "may not contain a path"),
        ("..\\plan.pdf", "may not contain a path"),
        ("plan\x00.pdf", "control characters"),
        ("p" * 296 + ".pdf", "longer than 255"),
    ],
)
def test_hostile_file_names_are_refused_not_silently_rewritten(
    liaison_client, case_at, raw_name, message
):
    case = case_at("intake")
    response = raw_upload(liaison_client, case, raw_name, PDF)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert_nothing_stored(case)


def test_non_ascii_file_name_is_accepted_and_offered_safely_on_download(liaison_client, case_at):
    case = case_at("intake")
    name = "Plan de déploiement – 計画.pdf"
    response = raw_upload(liaison_client, case, name, PDF)
    assert response.status_code == 302
    doc = Document.objects.get(case=case)
    assert doc.original_name == name
    assert name not in doc.file.name
    download = liaison_client.get(
        reverse("submissions:document_download", kwargs={"number": case.number, "pk": doc.pk})
    )
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="Plan de deploiement _ _.pdf"' in disposition or "filename=" in disposition
    assert "filename*=UTF-8''Plan%20de%20d%C3%A9ploiement" in disposition
    disposition.encode("latin-1")  # the header itself stays ASCII-safe


def test_an_upload_cut_off_half_way_leaves_no_file_and_no_record(liaison_client, case_at):
    case = case_at("intake")
    body = multipart(doc_fields(), [("file", "plan.pdf", PDF + b"x" * 200_000, "application/pdf")])
    half = body[: len(body) // 2]
    response = post_multipart(liaison_client, upload_url(case), half, declared_length=len(body))
    assert response.status_code == 400
    assert "cut off" in response.content.decode()
    assert_nothing_stored(case)


def test_upload_to_another_company_case_is_a_404_and_stores_nothing(client, other_liaison, case_at):
    case = case_at("intake")
    client.force_login(other_liaison)
    response = client.post(
        upload_url(case), {**doc_fields(), "file": SimpleUploadedFile("plan.pdf", PDF)}
    )
    assert response.status_code == 404
    assert_nothing_stored(case)


@pytest.mark.parametrize("status", ["cleared", "withdrawn"])
def test_upload_after_the_case_is_cleared_or_withdrawn_is_refused(
    liaison_client, liaison, case_at, status
):
    case = case_at("cleared" if status == "cleared" else "triage")
    if status == "withdrawn":
        from review.services import withdraw

        withdraw(case=case, actor=liaison)
    before = set(stored_files())
    count = Document.objects.filter(case=case).count()
    response = liaison_client.post(
        upload_url(case), {**doc_fields(), "file": SimpleUploadedFile("plan.pdf", PDF)}
    )
    assert response.status_code == 403
    assert Document.objects.filter(case=case).count() == count
    assert set(stored_files()) == before


def test_service_refuses_document_upload_after_withdrawal(liaison, case_at):
    from core.errors import ActionRefused
    from review.services import withdraw

    case = withdraw(case=case_at("intake"), actor=liaison)
    with pytest.raises(ActionRefused, match="withdrawn"):
        services.upload_document(
            case=case,
            actor=liaison,
            kind="deployment_plan",
            file=SimpleUploadedFile("plan.pdf", PDF),
            original_name="plan.pdf",
        )
    assert stored_files() == []


def test_download_is_an_attachment_with_nosniff_only_for_people_who_see_the_case(
    client, liaison, other_liaison, manager, evaluator, case_at
):
    case = case_at("triage")  # submitted: a draft's documents are the company's alone
    doc = services.upload_document(
        case=case,
        actor=liaison,
        kind="model_card",
        file=SimpleUploadedFile("card.md", MODEL_CARD),
        original_name="card.md",
    )
    url = reverse("submissions:document_download", kwargs={"number": case.number, "pk": doc.pk})
    client.force_login(manager)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == MODEL_CARD
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith('attachment; filename="card.md"')
    for outsider in (other_liaison, evaluator):
        client.force_login(outsider)
        assert client.get(url).status_code == 404


def test_storage_is_never_served_directly(client, liaison, case_at):
    case = case_at("intake")
    doc = services.upload_document(
        case=case,
        actor=liaison,
        kind="deployment_plan",
        file=SimpleUploadedFile("plan.pdf", PDF),
        original_name="plan.pdf",
    )
    client.force_login(liaison)
    assert client.get(f"/media/{doc.file.name}").status_code == 404


# --- weights upload with the company's checksum ------------------------------------


def weights_grant(case, liaison, *, declared: str = ""):
    """A secure-upload grant, for a version declaring `declared` if given (else the newest)."""
    from datetime import timedelta

    from django.utils import timezone

    version = None
    if declared:
        version = services.add_version(
            case=case,
            actor=liaison,
            label=f"weights-{declared[:8]}",
            vcs_reference="git:weights",
            artifact_sha256=declared,
        )
    return services.grant_access(
        case=case,
        actor=liaison,
        model_version=version,
        method=AccessMethod.WEIGHTS_UPLOAD,
        nda_reference="NDA-1",
        nda_signed_on=timezone.localdate(),
        valid_until=timezone.now() + timedelta(days=30),
    )


def artifact_url(case, grant):
    return reverse("submissions:artifact_upload", kwargs={"number": case.number, "pk": grant.pk})


def test_weights_matching_the_expected_sha256_are_kept_and_verified(
    liaison_client, liaison, case_at
):
    case = case_at("access")
    weights = b"\x00\x01weights" * 50_000
    grant = weights_grant(case, liaison, declared=hashlib.sha256(weights).hexdigest())
    response = liaison_client.post(
        artifact_url(case, grant),
        {
            "expected_sha256": hashlib.sha256(weights).hexdigest(),
            "file": SimpleUploadedFile("model.safetensors", weights),
        },
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.checksum_verified and grant.artifact_size == len(weights)
    assert stored_files("artifacts") == [grant.artifact.name.removeprefix("artifacts/")]


def test_weights_with_a_checksum_mismatch_are_refused_and_removed(liaison_client, liaison, case_at):
    case = case_at("access")
    grant = weights_grant(case, liaison, declared="0" * 64)
    response = liaison_client.post(
        artifact_url(case, grant),
        {"expected_sha256": "0" * 64, "file": SimpleUploadedFile("model.safetensors", b"w" * 999)},
    )
    assert response.status_code == 400
    assert "not the expected" in response.content.decode()
    assert 'value="0000000000' in response.content.decode()
    grant.refresh_from_db()
    assert not grant.checksum_verified and not grant.artifact
    assert stored_files() == []


def test_weights_over_the_artifact_limit_are_refused(liaison_client, liaison, case_at, settings):
    settings.SUBMISSION_ARTIFACT_MAX_BYTES = 10_000
    case = case_at("access")
    data = b"w" * 20_000
    grant = weights_grant(case, liaison, declared=hashlib.sha256(data).hexdigest())
    response = liaison_client.post(
        artifact_url(case, grant),
        {
            "expected_sha256": hashlib.sha256(data).hexdigest(),
            "file": SimpleUploadedFile("model.bin", data),
        },
    )
    assert response.status_code == 400
    assert "larger than the limit" in response.content.decode()
    assert stored_files() == []


def test_streamed_upload_keeps_memory_well_under_the_file_size(liaison_client, case_at):
    case = case_at("intake")
    size = 24 * 1024 * 1024
    text = (b"# Notes\n" + b"All is well in this long plan.\n" * (size // 30))[:size]
    assert len(text) == size
    body = multipart(doc_fields(kind="other"), [("file", "long.txt", text, "text/plain")])
    del text
    tracemalloc.start()
    tracemalloc.reset_peak()
    response = post_multipart(liaison_client, upload_url(case), body)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert response.status_code == 302, response.content[:500]
    doc = Document.objects.get(case=case)
    assert doc.size == size
    # The body itself is held by the test; the server side adds only chunks.
    assert peak < size / 4, f"peak {peak} bytes for a {size}-byte upload"


def test_upload_page_carries_the_progress_bar_script_and_drop_zone(liaison_client, case_at):
    case = case_at("intake")
    page = liaison_client.get(upload_url(case)).content.decode()
    assert "js/upload.js" in page and "data-dropzone" in page and "data-progress" in page
    assert "<script>" not in page.replace('<script src="', "")  # no inline scripts


def test_invalid_json_message_is_kept_short(liaison_client, case_at):
    case = case_at("intake")
    response = liaison_client.post(
        upload_url(case),
        {**doc_fields(kind="other"), "file": SimpleUploadedFile("x.json", b"[1, 2")},
        headers={"x-requested-with": "XMLHttpRequest"},
    )
    assert response.status_code == 400
    assert json.dumps(response.json()).count("not valid JSON") == 1
