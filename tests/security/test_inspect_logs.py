"""Each way the red team broke the Inspect import with logs Inspect itself wrote.

The logs come from the installed inspect_ai, run offline against mockllm
(tests/findings/inspect_tasks.py), in every status Inspect writes.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import create_api_token
from core.errors import BadInput
from findings import services
from findings.models import Category, EvaluationRun, EvaluationSample, Finding, Severity
from review.services import share_findings
from tests.findings.conftest import upload

Status = EvaluationRun.RunStatus


def import_log(case, actor, path, name=None):
    return services.import_inspect_log(
        case=case, actor=actor, upload=upload(path, name), category=Category.OTHER
    )


# --- 1. a NaN metric -----------------------------------------------------------------------


@pytest.mark.parametrize("log_format", ["eval", "json"])
def test_a_nan_metric_is_stored_as_null_with_a_note_not_a_server_error(
    testing_case, cast, inspect_logs, log_format
):
    run = import_log(testing_case, cast.evaluator, inspect_logs[f"nan.{log_format}"])
    run.refresh_from_db()
    assert run.metrics["_with_nan/nan_metric"] is None
    assert run.metric_notes == {"_with_nan/nan_metric": "NaN"}
    assert run.metrics["_with_nan/accuracy"] == pytest.approx(1 / 3)
    (score,) = run.inspect_scores
    assert score["not_numbers"] == {"nan_metric": "NaN"}


def test_already_imported_is_said_only_when_the_eval_id_is_on_the_case(
    testing_case, cast, inspect_logs
):
    import_log(testing_case, cast.evaluator, inspect_logs["nan.eval"])
    # The same run's other format is a different eval id: it is not "already imported".
    import_log(testing_case, cast.evaluator, inspect_logs["nan.json"])
    with pytest.raises(services.InspectLogRejected, match="already imported"):
        import_log(testing_case, cast.evaluator, inspect_logs["nan.eval"])
    assert testing_case.evaluations.count() == 2


# --- 2. a truncated or corrupt log ---------------------------------------------------------


def test_a_json_log_cut_after_20_kb_is_refused_and_the_genuine_log_then_imports(
    testing_case, cast, inspect_logs
):
    path = inspect_logs["success.json"]
    cut = SimpleUploadedFile(path.name, path.read_bytes()[: 20 * 1024])
    with pytest.raises(services.InspectLogRejected, match="cut off or damaged"):
        services.import_inspect_log(
            case=testing_case, actor=cast.evaluator, upload=cut, category=Category.OTHER
        )
    assert not testing_case.evaluations.exists()
    run = import_log(testing_case, cast.evaluator, path)
    assert run.status == Status.COMPLETED


@pytest.mark.parametrize("kind", ["success.eval", "epochs.eval"])
def test_an_eval_log_cut_mid_file_is_refused(testing_case, cast, inspect_logs, kind):
    data = inspect_logs[kind].read_bytes()
    with pytest.raises(services.InspectLogRejected):
        services.import_inspect_log(
            case=testing_case,
            actor=cast.evaluator,
            upload=SimpleUploadedFile("cut.eval", data[: len(data) * 2 // 3]),
            category=Category.OTHER,
        )
    assert not testing_case.evaluations.exists()


def test_an_eval_log_with_a_damaged_sample_is_refused(testing_case, cast, inspect_logs):
    data = bytearray(inspect_logs["success.eval"].read_bytes())
    # Flip bytes inside the first sample member's compressed data: the directory still reads.
    offset = data.find(b"samples/") + 200
    data[offset : offset + 16] = bytes(b ^ 0xFF for b in data[offset : offset + 16])
    with pytest.raises(services.InspectLogRejected, match="damaged|could not be read"):
        services.import_inspect_log(
            case=testing_case,
            actor=cast.evaluator,
            upload=SimpleUploadedFile("damaged.eval", bytes(data)),
            category=Category.OTHER,
        )
    assert not testing_case.evaluations.exists()


def test_a_json_log_with_garbage_after_it_is_refused(testing_case, cast, inspect_logs):
    data = inspect_logs["success.json"].read_bytes() + b'{"status": "success"}'
    with pytest.raises(services.InspectLogRejected):
        services.import_inspect_log(
            case=testing_case,
            actor=cast.evaluator,
            upload=SimpleUploadedFile("twice.json", data),
            category=Category.OTHER,
        )


# --- 3. epochs and reducers ------------------------------------------------------------------


@pytest.mark.parametrize("log_format", ["eval", "json"])
def test_every_reducer_keeps_its_own_metric(testing_case, cast, inspect_logs, log_format):
    run = import_log(testing_case, cast.evaluator, inspect_logs[f"epochs.{log_format}"])
    run.refresh_from_db()
    assert run.metrics["_right_in_first_epoch/accuracy (mean)"] == 0.5
    assert run.metrics["_right_in_first_epoch/accuracy (max)"] == 1.0
    assert len(run.metrics) == 4  # two scorers × two reducers, one metric each
    assert [s["reducer"] for s in run.inspect_scores] == ["mean", "max", "mean", "max"]
    assert (run.inspect_sample_count, run.inspect_epochs, run.inspect_total_samples) == (1, 2, 2)


# --- 4. every status ---------------------------------------------------------------------------


@pytest.mark.parametrize("log_format", ["eval", "json"])
def test_an_errored_run_keeps_its_error_and_traceback(testing_case, cast, inspect_logs, log_format):
    run = import_log(testing_case, cast.evaluator, inspect_logs[f"error.{log_format}"])
    run.refresh_from_db()
    assert (run.status, run.inspect_status) == (Status.FAILED, "error")
    assert "the sandbox went away" in run.inspect_error
    assert "Traceback" in run.inspect_traceback


@pytest.mark.parametrize("log_format", ["eval", "json"])
def test_a_cancelled_run_is_not_shown_as_failed(testing_case, cast, inspect_logs, log_format):
    run = import_log(testing_case, cast.evaluator, inspect_logs[f"cancelled.{log_format}"])
    assert (run.status, run.inspect_status) == (Status.CANCELLED, "cancelled")


@pytest.mark.parametrize("log_format", ["eval", "json"])
def test_a_killed_run_is_incomplete_and_never_offered_as_completed(
    testing_case, cast, inspect_logs, client, log_format
):
    run = import_log(testing_case, cast.evaluator, inspect_logs[f"killed.{log_format}"])
    assert (run.status, run.inspect_status) == (Status.INCOMPLETE, "started")
    assert run.completed_at is None
    client.force_login(cast.evaluator)
    kwargs = {"number": testing_case.number, "pk": run.pk}
    page = client.get(reverse("findings:evaluation", kwargs=kwargs)).content.decode()
    assert "Incomplete" in page
    assert "Mark completed" not in page and "Running" not in page
    client.post(reverse("findings:evaluation_finish", kwargs=kwargs), {"status": "completed"})
    run.refresh_from_db()
    assert run.status == Status.INCOMPLETE


@pytest.mark.parametrize("log_format", ["eval", "json"])
def test_a_tolerated_sample_error_is_counted_and_shown(
    testing_case, cast, inspect_logs, client, log_format
):
    run = import_log(testing_case, cast.evaluator, inspect_logs[f"one_error.{log_format}"])
    run.refresh_from_db()
    assert run.status == Status.COMPLETED
    assert (run.inspect_completed_samples, run.inspect_total_samples) == (2, 3)
    assert run.inspect_sample_errors == 1
    assert run.samples.get(sample_id="s2").error.startswith("RuntimeError")
    client.force_login(cast.evaluator)
    kwargs = {"number": testing_case.number, "pk": run.pk}
    page = client.get(reverse("findings:evaluation", kwargs=kwargs)).content.decode()
    assert "2 of 3 completed" in page and "1 sample in error" in page


def test_a_2024_log_of_schema_version_1_is_accepted(testing_case, cast, inspect_logs):
    run = import_log(testing_case, cast.evaluator, inspect_logs["v1.json"])
    run.refresh_from_db()
    assert run.status == Status.COMPLETED
    assert run.metrics["model_graded_fact/accuracy"] == 0.5
    assert sorted(run.samples.values_list("sample_id", flat=True)) == ["1", "2"]
    assert run.samples.get(sample_id="1").scores["score"]["value"] == "C"


# --- 5. sample ids that are not in the cited log ------------------------------------------------


def test_a_finding_cannot_cite_a_sample_that_is_not_in_its_log(testing_case, cast, inspect_logs):
    run = import_log(testing_case, cast.evaluator, inspect_logs["success.eval"])
    kwargs = {
        "case": testing_case,
        "actor": cast.evaluator,
        "severity": Severity.HIGH,
        "category": Category.OTHER,
        "title": "Over-refusal",
        "description": "The model refuses benign prompts.",
        "evaluation": run,
    }
    with pytest.raises(BadInput, match="no sample no-such-sample"):
        services.draft_finding(sample_ids=["s1", "no-such-sample"], **kwargs)
    assert not Finding.objects.exists()
    finding = services.draft_finding(sample_ids=["s1"], **kwargs)
    assert finding.sample_ids == ["s1"]


def api_client(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {create_api_token(user=user, name='t', read_only=False)[1]}"
    )
    return client


def test_the_api_refuses_unknown_sample_ids_naming_them_and_cites_evaluations_by_id(
    testing_case, cast, inspect_logs
):
    run = import_log(testing_case, cast.evaluator, inspect_logs["success.json"])
    import_log(testing_case, cast.evaluator, inspect_logs["success.eval"])  # the same title
    client = api_client(cast.evaluator)
    url = f"/api/v1/cases/{testing_case.number}/findings/"
    body = {
        "severity": "high",
        "category": "other",
        "title": "Over-refusal",
        "description": "The model refuses benign prompts.",
        "evaluation": run.pk,
        "sample_ids": ["no-such-sample"],
    }
    refused = client.post(url, body, format="json")
    assert refused.status_code == 400
    assert "no-such-sample" in str(refused.json())
    made = client.post(url, {**body, "sample_ids": ["s2"]}, format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["evaluation"] == run.pk


# --- 6. the API imports logs of any size ----------------------------------------------------------


def test_the_api_imports_an_inspect_log_as_the_web_page_does(testing_case, cast, inspect_logs):
    client = api_client(cast.evaluator)
    url = f"/api/v1/cases/{testing_case.number}/evaluations/"
    path = inspect_logs["epochs.eval"]
    with path.open("rb") as log:
        response = client.post(url, {"log": log, "category": "other"}, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["inspect_status"] == "success"
    assert body["status"] == "completed"
    assert (body["inspect_sample_count"], body["inspect_epochs"]) == (1, 2)
    assert {(s["name"], s["reducer"]) for s in body["inspect_scores"]} >= {
        ("_right_in_first_epoch", "mean"),
        ("_right_in_first_epoch", "max"),
    }
    event = testing_case.events.order_by("-seq").first()
    assert event.verb == "evaluation_recorded"
    with path.open("rb") as log:
        again = client.post(url, {"log": log, "category": "other"}, format="multipart")
    assert again.status_code == 400
    assert "already imported" in str(again.json())
    with (inspect_logs["error.json"]).open("rb") as log:
        failed = client.post(url, {"log": log, "category": "other"}, format="multipart")
    assert failed.json()["inspect_error"].startswith("RuntimeError")
    assert failed.json()["status"] == "failed"


def test_the_api_refuses_a_truncated_log_with_a_clear_message(testing_case, cast, inspect_logs):
    client = api_client(cast.evaluator)
    url = f"/api/v1/cases/{testing_case.number}/evaluations/"
    cut = SimpleUploadedFile("cut.json", inspect_logs["success.json"].read_bytes()[:20480])
    response = client.post(url, {"log": cut, "category": "other"}, format="multipart")
    assert response.status_code == 400
    assert "cut off" in str(response.json())
    assert not testing_case.evaluations.exists()


@pytest.mark.parametrize("who", ["liaison", "other_liaison", "other_evaluator", "auditor"])
def test_only_the_cases_evaluators_import_through_the_api(testing_case, cast, inspect_logs, who):
    client = api_client(getattr(cast, who))
    url = f"/api/v1/cases/{testing_case.number}/evaluations/"
    with inspect_logs["success.eval"].open("rb") as log:
        response = client.post(url, {"log": log, "category": "other"}, format="multipart")
    assert response.status_code in (403, 404, 409)
    assert not EvaluationRun.objects.exists()


def test_the_default_log_limit_is_several_gigabytes(settings):
    from django.conf import settings as live  # noqa: PLC0415 - the value the portal starts with

    assert live.INSPECT_LOG_MAX_BYTES >= 4 * 1024**3


# --- sample evidence, the viewer and the log bytes -----------------------------------------


def test_staff_open_a_cited_sample_and_the_company_only_once_a_shared_finding_cites_it(
    testing_case, cast, inspect_logs, client
):
    run = import_log(testing_case, cast.evaluator, inspect_logs["success.eval"])
    finding = services.draft_finding(
        case=testing_case,
        actor=cast.evaluator,
        severity=Severity.LOW,
        category=Category.OTHER,
        title="Echoes the mock",
        description="The output repeats itself.",
        evaluation=run,
        sample_ids=["s1"],
    )
    sample = EvaluationSample.objects.get(run=run, sample_id="s1")
    url = reverse(
        "findings:finding_sample",
        kwargs={"number": testing_case.number, "pk": finding.pk, "sample": sample.pk},
    )
    client.force_login(cast.evaluator)
    page = client.get(url)
    assert page.status_code == 200
    assert "Question 1" in page.content.decode() and "Default output" in page.content.decode()
    client.force_login(cast.liaison)
    assert client.get(url).status_code == 404  # a draft: to the company it does not exist
    uncited = EvaluationSample.objects.get(run=run, sample_id="s2")
    share_findings(case=testing_case, actor=cast.manager)
    assert client.get(url).status_code == 200
    other = reverse(
        "findings:finding_sample",
        kwargs={"number": testing_case.number, "pk": finding.pk, "sample": uncited.pk},
    )
    assert client.get(other).status_code == 404
    client.force_login(cast.other_liaison)
    assert client.get(url).status_code == 404


def test_the_log_bytes_answer_range_requests_for_staff_only(
    testing_case, cast, inspect_logs, client
):
    run = import_log(testing_case, cast.evaluator, inspect_logs["success.eval"])
    data = inspect_logs["success.eval"].read_bytes()
    url = reverse(
        "findings:evaluation_log_bytes",
        kwargs={"number": testing_case.number, "pk": run.pk, "name": run.viewer_log_name},
    )
    client.force_login(cast.evaluator)
    whole = client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == data
    part = client.get(url, HTTP_RANGE="bytes=10-99")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 10-99/{len(data)}"
    assert b"".join(part.streaming_content) == data[10:100]
    tail = client.get(url, HTTP_RANGE="bytes=-22")
    assert b"".join(tail.streaming_content) == data[-22:]
    head = client.head(url)
    assert head["Content-Length"] == str(len(data))
    beyond = client.get(url, HTTP_RANGE=f"bytes={len(data)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(data)}"
    assert client.get(url, HTTP_RANGE="bytes=5-2").status_code == 416
    for outsider in (cast.liaison, cast.other_evaluator, cast.other_liaison):
        client.force_login(outsider)
        assert client.get(url, HTTP_RANGE="bytes=0-9").status_code == 404


def test_inspects_own_viewer_is_served_to_staff_under_its_own_policy(
    testing_case, cast, inspect_logs, client
):
    run = import_log(testing_case, cast.evaluator, inspect_logs["success.eval"])
    kwargs = {"number": testing_case.number, "pk": run.pk}
    viewer = reverse("findings:evaluation_viewer", kwargs=kwargs)
    client.force_login(cast.evaluator)
    first = client.get(viewer)
    assert first.status_code == 302 and "log_file=" in first["Location"]
    page = client.get(first["Location"])
    assert page.status_code == 200
    assert b'<div id="app">' in page.content
    assert "wasm-unsafe-eval" in page["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    script = client.get(viewer + "assets/index.js")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("text/javascript")
    assert client.get(viewer + "assets/../../index.html").status_code == 404
    assert client.get(viewer + "assets/no-such.js").status_code == 404
    client.force_login(cast.liaison)
    assert client.get(viewer).status_code == 404
    assert client.get(viewer + "assets/index.js").status_code == 404
