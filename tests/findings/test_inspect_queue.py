"""Large Inspect logs: kept whole by the request and read by a worker, never lost, never twice."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import create_api_token
from findings import tasks
from findings.models import EvaluationRun, InspectImport
from tests.clearance.conftest import (  # noqa: F401 - the live worker and what it needs
    live_worker,
    signing_identity,
    start_worker,
    statement_settings,
    wait_for,
    worker_env,
)

from .conftest import upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue_every_log(settings, tmp_path):
    """Every log counts as large: the import hands it to a worker."""
    settings.INSPECT_LOG_INLINE_BYTES = 0
    settings.MEDIA_ROOT = tmp_path / "media"


def post_log(client, case, path, name=None):
    return client.post(
        reverse("findings:evaluation_import", args=[case.number]),
        {
            "log": upload(path, name),
            "category": "other",
            "model_version": case.versions.order_by("-pk").first().pk,
        },
    )


def test_a_large_log_is_kept_then_read_by_the_task_into_a_run_with_its_samples(
    client, testing_case, cast, inspect_logs, queue_every_log
):
    client.force_login(cast.evaluator)
    response = post_log(client, testing_case, inspect_logs["one_error.eval"])
    assert response.status_code == 302, response.content.decode()[-3000:]
    queued = InspectImport.objects.get(case=testing_case)
    status_page = reverse("findings:inspect_import", args=[testing_case.number, queued.pk])
    assert response.status_code == 302 and response["Location"] == status_page
    assert not EvaluationRun.objects.filter(case=testing_case).exists()
    page = client.get(status_page)
    assert page.status_code == 200 and "Being read" in page.content.decode()

    assert tasks.import_inspect_log(queued.pk) == "imported"
    queued.refresh_from_db()
    run = queued.run
    assert (run.inspect_completed_samples, run.inspect_sample_errors, run.samples.count()) == (
        2,
        1,
        3,
    )
    # The run keeps the very file received, with the hash taken as it arrived.
    assert run.inspect_log.name == queued.log.name
    assert run.inspect_log_sha256 == queued.sha256
    assert client.get(status_page)["Location"] == reverse(
        "findings:evaluation", args=[testing_case.number, run.pk]
    )
    # A second delivery of the task records nothing more.
    assert tasks.import_inspect_log(queued.pk) is None
    assert EvaluationRun.objects.filter(case=testing_case).count() == 1


def test_a_cut_off_large_log_is_refused_with_the_reason_and_nothing_kept(
    client, testing_case, cast, inspect_logs, queue_every_log, tmp_path
):
    cut = tmp_path / "cut.json"
    cut.write_bytes(inspect_logs["success.json"].read_bytes()[: 20 * 1024])
    client.force_login(cast.evaluator)
    post_log(client, testing_case, cut)
    queued = InspectImport.objects.get(case=testing_case)
    stored = queued.log.path
    assert tasks.import_inspect_log(queued.pk) == "refused"
    queued.refresh_from_db()
    assert "cut off or damaged" in queued.refusal and queued.run is None
    assert not EvaluationRun.objects.filter(case=testing_case).exists()
    assert not (tmp_path / "media").joinpath(stored).exists()
    page = client.get(reverse("findings:inspect_import", args=[testing_case.number, queued.pk]))
    assert "cut off or damaged" in page.content.decode()


def test_the_company_cannot_see_an_import(
    client, testing_case, cast, inspect_logs, queue_every_log
):
    client.force_login(cast.evaluator)
    post_log(client, testing_case, inspect_logs["success.json"])
    queued = InspectImport.objects.get(case=testing_case)
    client.force_login(cast.liaison)
    page = client.get(reverse("findings:inspect_import", args=[testing_case.number, queued.pk]))
    assert page.status_code == 404
    _, raw = create_api_token(user=cast.liaison, name="pipeline")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    answer = api.get(f"/api/v1/cases/{testing_case.number}/evaluations/imports/{queued.pk}/")
    assert answer.status_code == 403


@pytest.mark.worker
def test_a_live_worker_reads_a_log_the_api_handed_over(
    live_worker,  # noqa: F811
    testing_case,
    cast,
    inspect_logs,
    settings,
):
    settings.INSPECT_LOG_INLINE_BYTES = 0
    _, raw = create_api_token(user=cast.evaluator, name="pipeline", read_only=False)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    with inspect_logs["epochs.json"].open("rb") as log:
        response = api.post(
            f"/api/v1/cases/{testing_case.number}/evaluations/",
            {"log": log, "category": "other"},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    assert response.json()["state"] == "queued"

    def imported():
        state = api.get(response["Location"]).json()
        return state if state["state"] != "queued" else None

    state = wait_for(imported, timeout=120, message="the worker did not read the log")
    assert state["state"] == "imported", state
    run = EvaluationRun.objects.get(pk=state["evaluation"])
    assert run.metrics["_right_in_first_epoch/accuracy (max)"] == 1.0
