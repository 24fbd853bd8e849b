import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.errors import ActionRefused, CaseNotFound
from findings import services
from findings.models import Category, EvaluationRun

from .conftest import upload


def record(case, actor, **extra):
    return services.record_evaluation_run(
        case=case,
        actor=actor,
        category=Category.HALLUCINATION,
        title="Citation accuracy",
        metrics={"hallucination_rate": 0.08},
        **extra,
    )


def test_assigned_evaluator_records_a_run_against_the_submitted_version(testing_case, cast):
    run = record(testing_case, cast.evaluator)
    assert run.status == EvaluationRun.RunStatus.COMPLETED
    assert run.model_version == testing_case.versions.get()
    event = testing_case.events.order_by("-seq").first()
    assert (event.verb, event.internal) == ("evaluation_recorded", True)


def test_liaison_cannot_record_a_run(testing_case, cast):
    with pytest.raises(ActionRefused):
        record(testing_case, cast.liaison)


def test_unassigned_evaluator_is_told_the_case_does_not_exist(testing_case, cast):
    with pytest.raises(CaseNotFound):
        record(testing_case, cast.other_evaluator)


def test_runs_are_refused_outside_testing(case_at, cast):
    case = case_at("documentation")
    with pytest.raises(ActionRefused):
        record(case, cast.manager)


def test_a_running_evaluation_finishes_once(testing_case, cast):
    run = record(testing_case, cast.evaluator, status=EvaluationRun.RunStatus.RUNNING)
    assert run.completed_at is None
    run = services.finish_evaluation_run(
        run=run, actor=cast.evaluator, status="completed", metrics={"x": 1}
    )
    assert (run.status, run.metrics) == ("completed", {"x": 1})
    with pytest.raises(ActionRefused, match="already completed"):
        services.finish_evaluation_run(run=run, actor=cast.evaluator, status="failed")


@pytest.mark.parametrize("suffix", [".eval", ".json"])
def test_inspect_import_stores_the_header(testing_case, cast, inspect_log, suffix):
    path = inspect_log(suffix=suffix)
    run = services.import_inspect_log(
        case=testing_case,
        actor=cast.evaluator,
        upload=upload(path),
        category=Category.ADVERSARIAL_ROBUSTNESS,
    )
    run.refresh_from_db()
    assert run.title == "Inspect: jailbreak_suite"
    assert len(run.inspect_eval_id) > 10
    assert run.inspect_run_id == "run-run"
    assert run.inspect_task == "jailbreak_suite"
    assert run.inspect_task_version == "2"
    assert run.inspect_model == "acme/atlas-v1"
    assert run.inspect_dataset == "jb-prompts"
    assert run.inspect_sample_count == 400
    assert run.inspect_revision == "git:abc123"
    assert run.inspect_status == "success"
    assert run.status == EvaluationRun.RunStatus.COMPLETED
    assert run.inspect_scores == [
        {
            "name": "refusal",
            "scorer": "model_graded_qa",
            "reducer": None,
            "metrics": {"accuracy": 0.958, "stderr": 0.01},
        },
        {"name": "harm", "scorer": "match", "reducer": None, "metrics": {"mean": 0.042}},
    ]
    assert run.metrics["refusal/accuracy"] == 0.958
    assert len(run.inspect_log_sha256) == 64
    assert run.inspect_log.read() == path.read_bytes()


def test_an_errored_inspect_log_is_recorded_as_a_failed_run(testing_case, cast, inspect_log):
    run = services.import_inspect_log(
        case=testing_case,
        actor=cast.evaluator,
        upload=upload(inspect_log(status="error")),
        category=Category.OTHER,
    )
    assert run.status == EvaluationRun.RunStatus.FAILED


def test_the_same_inspect_log_is_imported_only_once(testing_case, cast, inspect_log):
    path = inspect_log()
    kwargs = {"case": testing_case, "actor": cast.evaluator, "category": Category.OTHER}
    services.import_inspect_log(upload=upload(path), **kwargs)
    with pytest.raises(services.InspectLogRejected, match="already imported"):
        services.import_inspect_log(upload=upload(path), **kwargs)
    assert testing_case.evaluations.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("garbage.eval", b"this is not a zip archive", "could not be read as an Inspect AI log"),
        ("empty.json", b"", "could not be read as an Inspect AI log"),
        ("other.json", b'{"hello": "world"}', "could not be read as an Inspect AI log"),
        ("notes.txt", b"plain text", "is not an Inspect log"),
    ],
)
def test_unreadable_logs_are_refused_with_a_clear_message(
    testing_case, cast, name, content, message
):
    with pytest.raises(services.InspectLogRejected, match=message):
        services.import_inspect_log(
            case=testing_case,
            actor=cast.evaluator,
            upload=SimpleUploadedFile(name, content),
            category=Category.OTHER,
        )
    assert not testing_case.evaluations.exists()


@pytest.mark.parametrize("suffix", [".eval", ".json"])
def test_a_truncated_log_is_refused(testing_case, cast, inspect_log, suffix):
    path = inspect_log(suffix=suffix)
    data = path.read_bytes()
    with pytest.raises(services.InspectLogRejected):
        services.import_inspect_log(
            case=testing_case,
            actor=cast.evaluator,
            upload=SimpleUploadedFile(path.name, data[: len(data) // 2]),
            category=Category.OTHER,
        )


def test_import_page_shows_the_error_and_keeps_the_other_fields(testing_case, cast, client):
    client.force_login(cast.evaluator)
    url = reverse("findings:evaluation_import", kwargs={"number": testing_case.number})
    response = client.post(
        url,
        {
            "log": SimpleUploadedFile("broken.eval", b"PK\x03\x04 truncated"),
            "category": Category.DANGEROUS_CAPABILITY,
            "title": "Bio uplift probe",
            "model_version": testing_case.versions.get().pk,
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "could not be read as an Inspect AI log" in body
    assert 'value="Bio uplift probe"' in body


def test_import_page_records_the_run_and_shows_its_scores(testing_case, cast, client, inspect_log):
    client.force_login(cast.evaluator)
    url = reverse("findings:evaluation_import", kwargs={"number": testing_case.number})
    response = client.post(
        url,
        {
            "log": upload(inspect_log()),
            "category": Category.ADVERSARIAL_ROBUSTNESS,
            "model_version": testing_case.versions.get().pk,
        },
        follow=True,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "jailbreak_suite" in body and "0.958" in body and "git:abc123" in body


def test_liaison_never_reaches_an_evaluation_or_its_log(testing_case, cast, client, inspect_log):
    run = services.import_inspect_log(
        case=testing_case,
        actor=cast.evaluator,
        upload=upload(inspect_log()),
        category=Category.OTHER,
    )
    kwargs = {"number": testing_case.number, "pk": run.pk}
    client.force_login(cast.liaison)
    assert client.get(reverse("findings:evaluation", kwargs=kwargs)).status_code == 404
    assert client.get(reverse("findings:evaluation_log", kwargs=kwargs)).status_code == 404
    client.force_login(cast.other_evaluator)
    assert client.get(reverse("findings:evaluation", kwargs=kwargs)).status_code == 404
    client.force_login(cast.evaluator)
    response = client.get(reverse("findings:evaluation_log", kwargs=kwargs))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == run.inspect_log.open("rb").read()


def test_a_running_evaluation_is_finished_from_its_page(testing_case, cast, client):
    run = record(testing_case, cast.evaluator, status=EvaluationRun.RunStatus.RUNNING)
    kwargs = {"number": testing_case.number, "pk": run.pk}
    client.force_login(cast.evaluator)
    assert (
        b'data-testid="finish"' in client.get(reverse("findings:evaluation", kwargs=kwargs)).content
    )
    url = reverse("findings:evaluation_finish", kwargs=kwargs)
    client.post(url, {"status": "bogus"})
    run.refresh_from_db()
    assert run.status == EvaluationRun.RunStatus.RUNNING
    client.post(url, {"status": "completed"})
    run.refresh_from_db()
    assert run.status == EvaluationRun.RunStatus.COMPLETED
    client.force_login(cast.liaison)
    assert client.post(url, {"status": "failed"}).status_code == 404
