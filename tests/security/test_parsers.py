"""The parsers of uploaded content, turned against the server as a red team did.

Each attack is kept as it was reported: a model card whose one heading
backtracks cubically, YAML aliases in its front matter, an Inspect `.eval`
whose header.json inflates to hundreds of MiB, a document over the size cap
sent through the API with a session cookie, JSON nested a hundred thousand
deep, and hostile file names on the API path.
"""

import io
import resource
import struct
import time
import zipfile

import pytest
import zipfile_zstd  # noqa: F401 - teaches zipfile the zstd method Inspect writes
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from findings.models import Category, EvaluationRun
from submissions import services as submissions_services
from submissions.modelcard import check_model_card
from submissions.models import Document, DocumentKind
from tests.submissions.conftest import BOUNDARY, MODEL_CARD, multipart, post_multipart, stored_files

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024

# One heading: a word, 2,000 spaces, a letter. The old pattern tried every way
# of splitting the spaces between its three quantifiers: 28 s for this card.
REDOS_CARD = "# Card\n\n## Uses" + " " * 2000 + "x\n\nChat.\n"

# Aliases multiply: 8 metrics named 8 times per result, 8 results per entry, 8
# entries of model-index; huggingface_hub walks every combination.
ALIAS_BOMB_CARD = """---
metric: &metric {type: accuracy, value: 0.9, name: Accuracy}
metrics: &metrics [*metric, *metric, *metric, *metric, *metric, *metric, *metric, *metric]
result: &result {task: {type: text-generation}, dataset: {name: d, type: d}, metrics: *metrics}
results: &results [*result, *result, *result, *result, *result, *result, *result, *result]
entry: &entry {name: atlas, results: *results}
model-index: [*entry, *entry, *entry, *entry, *entry, *entry, *entry, *entry]
---
# Atlas
## Uses
"""

BRACKET_BOMB = "[" * 100_000


def peak_memory_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- 1. model cards --------------------------------------------------------------------


def test_a_heading_of_two_thousand_spaces_is_read_in_well_under_a_second():
    started = time.perf_counter()
    check = check_model_card(REDOS_CARD)
    assert time.perf_counter() - started < 15.0  # generous on a loaded machine; it was 28 s
    assert "Intended uses" not in check.missing  # the heading still counts


def test_a_redos_card_uploaded_on_the_web_is_answered_at_once(client, cast, case_at):
    case = case_at("documentation")
    client.force_login(cast.liaison)
    started = time.perf_counter()
    body = multipart(
        {"kind": "model_card"}, [("file", "card.md", REDOS_CARD.encode(), "text/markdown")]
    )
    response = post_multipart(
        client, reverse("submissions:document_upload", kwargs={"number": case.number}), body
    )
    assert time.perf_counter() - started < 15.0  # generous on a loaded machine; it was 28 s
    assert response.status_code == 302
    card = case.documents.get(kind=DocumentKind.MODEL_CARD)
    assert not any("could not be" in problem for problem in card.card_problems)


def test_yaml_aliases_in_a_card_front_matter_are_refused_quickly(cast, case_at):
    case = case_at("documentation")
    started = time.perf_counter()
    document = submissions_services.upload_document(
        case=case,
        actor=cast.liaison,
        kind=DocumentKind.MODEL_CARD,
        file=ContentFile(ALIAS_BOMB_CARD.encode()),
        original_name="card.md",
    )
    assert time.perf_counter() - started < 15.0  # generous on a loaded machine; it was 6.5 s
    problems = " ".join(document.card_problems)
    assert "metadata block" in problems
    assert "alias" in problems or "anchor" in problems


def test_deeply_nested_front_matter_is_refused_not_a_500(cast, case_at):
    check = check_model_card("---\nlicense: " + "[" * 5000 + "\n---\n# Card\n")
    assert "nests more than" in " ".join(check.problems)


def test_a_normal_card_is_still_checked_fully_and_fast():
    started = time.perf_counter()
    assert check_model_card(MODEL_CARD.decode()).complete
    assert time.perf_counter() - started < 15.0  # generous on a loaded machine


# --- 6. zip bombs in Inspect logs ------------------------------------------------------------


def eval_bomb(*, compression: int, declared_size: int | None = None) -> bytes:
    """A .eval archive whose header.json is 400 MiB of zeros, built in constant memory."""
    out = io.BytesIO()
    zeros = b"0" * MiB
    with (
        zipfile.ZipFile(out, "w", compression=compression) as archive,
        archive.open("header.json", "w", force_zip64=False) as member,
    ):
        for _ in range(400):
            member.write(zeros)
    data = bytearray(out.getvalue())
    if declared_size is not None:  # lie about the size, in the local and the central header
        local = data.index(b"PK\x03\x04")
        struct.pack_into("<I", data, local + 22, declared_size)
        central = data.index(b"PK\x01\x02")
        struct.pack_into("<I", data, central + 24, declared_size)
    return bytes(data)


def import_log(client, case, name: str, content: bytes):
    return client.post(
        reverse("findings:evaluation_import", kwargs={"number": case.number}),
        {
            "log": ContentFile(content, name=name),
            "category": Category.DANGEROUS_CAPABILITY,
            "title": "Bio uplift probe",
            "model_version": case.versions.get().pk,
        },
    )


@pytest.mark.parametrize(
    ("compression", "declared_size"),
    [
        pytest.param(zipfile.ZIP_DEFLATED, None, id="deflate"),
        pytest.param(zipfile_zstd.ZIP_ZSTANDARD, None, id="zstd"),
        pytest.param(zipfile_zstd.ZIP_ZSTANDARD, 1000, id="zstd-declaring-1000-bytes"),
        pytest.param(zipfile.ZIP_DEFLATED, 1000, id="deflate-declaring-1000-bytes"),
    ],
)
def test_a_zip_bomb_eval_log_is_refused_without_inflating_it(
    testing_case, cast, client, compression, declared_size
):
    bomb = eval_bomb(compression=compression, declared_size=declared_size)
    assert len(bomb) < 1 * MiB
    client.force_login(cast.evaluator)
    before = peak_memory_mib()
    response = import_log(client, testing_case, "bomb.eval", bomb)
    assert response.status_code == 400
    body = response.content.decode()
    assert "zip bomb" in body or "more than its declared size" in body
    assert 'value="Bio uplift probe"' in body  # what was typed is kept
    assert not EvaluationRun.objects.filter(case=testing_case).exists()
    assert peak_memory_mib() - before < 200  # the web process never held the 400 MiB


def test_an_inspect_log_over_the_limit_is_dropped_while_it_streams(
    testing_case, cast, client, settings
):
    settings.INSPECT_LOG_MAX_BYTES = 64 * 1024
    client.force_login(cast.evaluator)
    response = import_log(client, testing_case, "big.eval", b"PK" + b"\0" * (128 * 1024))
    assert response.status_code == 400
    assert "larger than the limit of 64 KiB" in response.content.decode()
    assert not EvaluationRun.objects.filter(case=testing_case).exists()


# --- 7. the document cap on the API, with a session cookie -------------------------------------


def session_client_with_csrf(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(reverse("cases:new"))  # a page with a form sets the CSRF cookie
    return client, client.cookies["csrftoken"].value


def documents_api(case) -> str:
    return f"/api/v1/cases/{case.number}/documents/"


def post_multipart_with_token(client, url: str, body: bytes):
    """POST a raw multipart body with an API client (which sets its own content type)."""
    return client.generic(
        "POST",
        url,
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def test_a_51_mib_document_through_the_api_with_a_session_cookie_is_refused(cast, case_at):
    case = case_at("documentation")
    client, token = session_client_with_csrf(cast.liaison)
    body = multipart({"kind": "other"}, [("file", "annex.txt", b"a" * (51 * MiB), "text/plain")])
    response = post_multipart(client, documents_api(case), body, HTTP_X_CSRFTOKEN=token)
    assert response.status_code in (400, 413), response.content[:300]
    assert response["Content-Type"].startswith("application/problem+json")
    assert "larger than the limit of 50 MiB" in response.json()["detail"]
    assert not Document.objects.filter(case=case).exists()
    assert stored_files("documents") == []


def test_a_document_over_the_cap_through_the_api_with_a_token_is_refused(
    cast, case_at, api_as, settings
):
    settings.SUBMISSION_DOCUMENT_MAX_BYTES = 1024
    case = case_at("documentation")
    body = multipart({"kind": "other"}, [("file", "annex.txt", b"a" * 4096, "text/plain")])
    response = post_multipart_with_token(api_as(cast.liaison), documents_api(case), body)
    assert response.status_code == 400
    assert "larger than the limit of 1 KiB" in response.json()["detail"]
    assert not Document.objects.filter(case=case).exists()


def test_a_file_sent_to_an_endpoint_that_takes_none_is_not_kept(cast, case_at):
    case = case_at("intake")
    client, token = session_client_with_csrf(cast.liaison)
    body = multipart(
        {"label": "v1", "vcs_reference": "abc123"},
        [("file", "weights.bin", b"w" * (2 * MiB), "application/octet-stream")],
    )
    response = post_multipart(
        client, f"/api/v1/cases/{case.number}/versions/", body, HTTP_X_CSRFTOKEN=token
    )
    # The endpoint takes JSON alone: a multipart body is refused as such, its file unkept.
    assert response.status_code == 415
    assert response["Content-Type"].startswith("application/problem+json")
    assert stored_files() == []


# --- 12. deeply nested JSON -------------------------------------------------------------------


def test_a_bracket_bomb_to_the_api_is_a_problem_details_400(cast, case_at, api_as):
    case = case_at("intake")
    response = api_as(cast.liaison).post(
        f"/api/v1/cases/{case.number}/versions/", BRACKET_BOMB, content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "nested more than 64 levels deep" in response.json()["detail"]


def test_a_bracket_bomb_to_the_api_with_a_session_cookie_is_a_400(cast, case_at):
    case = case_at("intake")
    client, token = session_client_with_csrf(cast.liaison)
    response = client.post(
        f"/api/v1/cases/{case.number}/versions/",
        BRACKET_BOMB,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 400
    assert "nested more than 64 levels deep" in response.json()["detail"]


def test_an_api_json_body_over_the_memory_bound_is_a_413(cast, case_at, api_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    case = case_at("intake")
    response = api_as(cast.liaison).post(
        f"/api/v1/cases/{case.number}/versions/",
        '{"label": "' + "v" * 4096 + '"}',
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/problem+json")


def test_a_bracket_bomb_in_the_web_metrics_field_is_a_400_keeping_the_title(
    testing_case, cast, client
):
    client.force_login(cast.evaluator)
    response = client.post(
        reverse("findings:evaluation_new", kwargs={"number": testing_case.number}),
        {
            "category": Category.HALLUCINATION,
            "title": "Citation probe",
            "status": "completed",
            "metrics": BRACKET_BOMB,
            "model_version": testing_case.versions.get().pk,
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "nested more than 64 levels deep" in page
    assert 'value="Citation probe"' in page
    assert not EvaluationRun.objects.filter(case=testing_case).exists()


def test_a_bracket_bomb_uploaded_as_a_json_document_is_a_400(client, cast, case_at):
    case = case_at("documentation")
    client.force_login(cast.liaison)
    body = multipart(
        {"kind": "other"}, [("file", "results.json", BRACKET_BOMB.encode(), "application/json")]
    )
    response = post_multipart(
        client, reverse("submissions:document_upload", kwargs={"number": case.number}), body
    )
    assert response.status_code == 400
    assert "nested more than 64 levels deep" in response.content.decode()
    assert not Document.objects.filter(case=case).exists()


# --- 14. one file-name rule for web and API -------------------------------------------------


@pytest.mark.parametrize(
    ("raw_name", "message"),
    [
        ("../../etc/passwd.txt", "may not contain a path"),
        ("C:\\\\evil\\\\annex.txt", "may not contain a path"),
        ("annex\u202etxt.exe.txt", "control characters"),
    ],
)
def test_hostile_file_names_on_the_api_are_refused_as_on_the_web(
    cast, case_at, api_as, raw_name, message
):
    case = case_at("documentation")
    body = multipart({"kind": "other"}, [("file", raw_name, b"Annex.\n", "text/plain")])
    response = post_multipart_with_token(api_as(cast.liaison), documents_api(case), body)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Document.objects.filter(case=case).exists()
