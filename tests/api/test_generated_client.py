"""A client generated from the live schema takes a company's case from intake to its statement.

`openapi-python-client` generates a package from `/api/schema/` as a live
server serves it; every module of it must import, and the company's side of
the review runs through it alone. CAISI's steps go through the services, as
the desk and the worker take them.
"""

import datetime as dt
import importlib
import io
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from cases.models import Case
from clearance.models import ClearanceStatement
from clearance.services import render_statement_pdf
from findings import services as findings_services
from review import demo
from review import services as review_services
from submissions import services as submissions_services
from submissions.models import REQUIRED_DOCUMENT_KINDS, DocumentKind
from tests.clearance.conftest import signing_identity, statement_settings  # noqa: F401

GENERATOR_CONFIG = {
    # The client has no type for these downloads; it hands the bytes over as they came.
    "content_type_overrides": {
        "application/pdf": "application/octet-stream",
        "application/zip": "application/octet-stream",
    },
}


@pytest.fixture
def generated_client(live_server, tmp_path, monkeypatch):
    """Generate the client package from the schema the live server serves, and import it."""
    with urllib.request.urlopen(f"{live_server.url}/api/schema/?format=json") as answer:  # noqa: S310
        (tmp_path / "schema.json").write_bytes(answer.read())
    (tmp_path / "config.json").write_text(json.dumps(GENERATOR_CONFIG))
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(tmp_path / "schema.json"),
            "--config",
            str(tmp_path / "config.json"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "caisi_client"),
            "--fail-on-warning",
        ],
        cwd=tmp_path,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module("caisi_client")
    for name in [m for m in sys.modules if m == "caisi_client" or m.startswith("caisi_client.")]:
        del sys.modules[name]
    shutil.rmtree(tmp_path / "caisi_client", ignore_errors=True)


def import_every_module(package) -> list[str]:
    names = [package.__name__]
    for module in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
        importlib.import_module(module.name)
        names.append(module.name)
    return names


def test_every_generated_module_imports(generated_client):
    names = import_every_module(generated_client)
    endpoints = [n for n in names if ".api.v1." in n]
    # Every operation of the schema is an endpoint module, each with its functions.
    assert len(endpoints) >= 40
    for name in endpoints:
        module = sys.modules[name]
        assert callable(module.sync_detailed), name


def test_a_generated_client_takes_a_case_from_intake_to_the_signed_statement(
    generated_client,
    live_server,
    cast,
    token_for,
    statement_settings,  # noqa: F811
):
    import_every_module(generated_client)
    api = importlib.import_module("caisi_client.api.v1")
    models = importlib.import_module("caisi_client.models")
    types = importlib.import_module("caisi_client.types")
    Client = generated_client.AuthenticatedClient
    company = Client(base_url=live_server.url, token=token_for(cast.liaison))

    def call(module: str, *args, expect: int, **kwargs):
        answer = importlib.import_module(f"{api.__name__}.{module}").sync_detailed(
            *args, client=company, **kwargs
        )
        assert answer.status_code == expect, (module, answer.status_code, answer.content[:2000])
        return answer

    # 1. Open the case, then fill the intake.
    opened = call(
        "cases_create",
        expect=201,
        body=models.CaseCreateRequest(title="Vega review", model_name="Vega 3"),
    ).parsed
    number = opened.number
    assert opened.status == models.CaseStatusEnum.INTAKE
    assert opened.clearance_statement is None
    release = timezone.localdate() + dt.timedelta(days=200)
    intake = call(
        "cases_intake_update",
        number,
        expect=200,
        body=models.PatchedIntakeRequest(
            description="A general assistant.",
            architecture="Decoder-only transformer",
            parameter_count=34_000_000_000,
            training_compute="8e23 FLOP",
            training_data_description="Licensed text to 2026-06.",
            intended_uses="Coding help.",
            modality="text",
            release_type=models.ReleaseTypeEnum.HOSTED,
            planned_release_date=release,
        ),
    ).parsed
    assert intake.architecture == "Decoder-only transformer"
    call(
        "versions_create",
        number,
        expect=201,
        body=models.VersionCreateRequest(
            label="v3.0", vcs_reference="v3.0-tag", artifact_sha256="cd" * 32
        ),
    )

    # 2. Upload the documentation (multipart: the one body with a file).
    for kind in REQUIRED_DOCUMENT_KINDS:
        text = (
            demo.DEMO_MODEL_CARD.format(model="Vega 3")
            if kind == DocumentKind.MODEL_CARD
            else f"# {kind.label}\n"
        )
        uploaded = call(
            "documents_upload",
            number,
            expect=201,
            body=models.DocumentUploadRequest(
                kind=models.DocumentUploadKindEnum(kind.value),
                file=types.File(
                    payload=io.BytesIO(text.encode()),
                    file_name=f"{kind.value}.md",
                    mime_type="text/markdown",
                ),
                report_type=(
                    models.ReportTypeEnum.RED_TEAMING
                    if kind == DocumentKind.SAFETY_REPORT
                    else types.UNSET
                ),
            ),
        ).parsed
        assert uploaded.sha256 and uploaded.state == models.DocumentStateEnum.SUBMITTED
    download = call("documents_download", number, uploaded.id, expect=200)
    assert download.headers["content-type"].startswith("text/markdown")

    # 3. Submit, then poll the status with its ETag until nothing changes.
    submitted = call(
        "cases_action", number, models.CasesActionAction.SUBMIT_INTAKE, expect=200
    ).parsed
    assert submitted.status == models.CaseStatusEnum.TRIAGE
    first = call("cases_status", number, expect=200)
    etag = first.headers["etag"]
    assert first.parsed.status == models.CaseStatusEnum.TRIAGE
    assert first.headers["last-modified"]
    unchanged = call("cases_status", number, expect=304, if_none_match=etag)
    assert unchanged.content == b"" and unchanged.headers["etag"] == etag

    # CAISI's steps, through the services, as the desk takes them.
    case = Case.objects.get(number=number)
    review_services.assign_case_manager(case=case, actor=cast.manager, manager=cast.manager)
    call(
        "access_create",
        number,
        expect=201,
        body=models.AccessGrantCreateRequest(
            method=models.MethodEnum.API_ENDPOINT,
            endpoint_url="https://models.example/vega",
            credentials="secret-key",
            nda_reference="NDA-9",
            nda_signed_on=timezone.localdate(),
            valid_until=timezone.now() + dt.timedelta(days=60),
        ),
    )
    review_services.verify_access(case=case, actor=cast.manager)
    demo.answer_checklist(case, cast.liaison)  # the documentation gate reads the checklist too
    for document in case.documents.all():
        submissions_services.review_document(document=document, actor=cast.manager, accept=True)
    review_services.accept_documentation(case=case, actor=cast.manager)
    run = findings_services.record_evaluation_run(
        case=case,
        actor=cast.manager,
        category="adversarial_robustness",
        title="Jailbreak suite",
        metrics={"asr": 0.04},
    )
    findings_services.draft_finding(
        case=case,
        actor=cast.manager,
        severity="high",
        title="Role-play bypass",
        description="Two prompts elicited disallowed content.",
        evaluation=run,
    )
    review_services.share_findings(case=case, actor=cast.manager)

    changed = call("cases_status", number, expect=200, if_none_match=etag)
    assert changed.parsed.status == models.CaseStatusEnum.FINDINGS
    assert changed.headers["etag"] != etag

    # 4. Page through the timeline, two events a page, by the `next` cursor.
    events, cursor, pages = [], types.UNSET, 0
    while True:
        page = call("cases_timeline", number, expect=200, page_size=2, cursor=cursor).parsed
        pages += 1
        assert len(page.results) <= 2
        events += page.results
        if not page.next_:
            break
        cursor = parse_qs(urlparse(page.next_).query)["cursor"][0]
    seen = [event.seq for event in events]
    assert pages > 3 and seen == sorted(seen) and len(seen) == len(set(seen))
    assert not any(event.internal for event in events)  # a company sees no internal event
    assert [e.to_status for e in events if e.to_status][-1] == "findings"

    # 5. Answer the shared finding.
    [finding] = call("findings_list", number, expect=200).parsed
    assert finding.title == "Role-play bypass"
    answered = call(
        "findings_respond",
        number,
        finding.id,
        expect=201,
        body=models.AnswerFindingRequest(
            kind=models.AnswerKindEnum.MITIGATED,
            mitigation="An output classifier blocks the pattern.",
        ),
    ).parsed
    assert answered.state == models.FindingStateEnum.ANSWERED

    # CAISI accepts the answer and clears the version; the worker signs the PDF.
    finding_row = case.findings.get(pk=finding.id)
    findings_services.review_finding_response(
        finding=finding_row, actor=cast.manager, verdict="accepted"
    )
    review_services.issue_clearance(
        case=case, actor=cast.official, version=case.versions.get(), scope="Vega 3 as hosted."
    )
    detail = call("cases_retrieve", number, expect=200).parsed
    statement = detail.clearance_statement
    assert statement.download_url.startswith(f"{live_server.url}/api/v1/")
    path = urlparse(statement.download_url).path
    statement_number = path.rstrip("/").split("/")[-2]

    issued = ClearanceStatement.objects.get(number=statement_number)
    if not issued.pdf:
        # Still being signed: a problem-details 409, not a sign-in page.
        waiting = call("statements_download", number, statement_number, expect=409)
        assert waiting.headers["content-type"] == "application/problem+json"
        render_statement_pdf(statement_id=issued.pk)

    # 6. Download the signed statement.
    pdf = call("statements_download", number, statement_number, expect=200)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert b"/ByteRange" in pdf.content  # signed
