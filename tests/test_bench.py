"""Keep the benchmark's seeder honest: the data it makes is data the portal accepts."""

from types import SimpleNamespace

import pytest
from django.db import connection

from cases import services
from cases.models import Case, CaseEvent
from cases.services import verify_chain
from deadlines.models import Deadline
from findings.models import Finding
from submissions.models import Document, ModelVersion


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the seeder loads with COPY")
def test_seeder_makes_the_cases_asked_for_with_timelines_whose_hash_chains_verify(liaison):
    from bench.seed import seed

    counts = seed(cases=50)

    assert Case.objects.count() == counts["case"] == 50
    assert CaseEvent.objects.count() == counts["event"] >= 50 * 8
    assert ModelVersion.objects.count() == counts["version"] > 0
    assert Document.objects.count() == counts["document"] > 0
    assert Finding.objects.count() == counts["finding"] > 0
    assert Deadline.objects.pending().count() > 0
    assert Case.objects.values("status").distinct().count() >= 8
    assert [case.number for case in Case.objects.all() if verify_chain(case)] == []
    # The portal's own numbering carries on after the seeded cases.
    opened = services.open_case(actor=liaison, title="After the seed", model_name="m")
    assert Case.objects.filter(number=opened.number).count() == 1


def test_bench_serves_with_the_compose_files_environment_and_gunicorn_command(
    monkeypatch, tmp_path
):
    """`make bench` measures what docker-compose.yml deploys, with only its own services."""
    import shlex

    import yaml

    from bench import run

    spec = yaml.safe_load(run.COMPOSE_FILE.read_text())
    deployed = {k: str(v) for k, v in spec["x-portal"]["environment"].items()}
    # Whatever the shell of whoever runs the bench holds stays out of the server.
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "600")
    monkeypatch.setenv("WEB_CONCURRENCY", "9")
    bench_services = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/caisi_bench",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/5",
        "CACHE_URL": "redis://127.0.0.1:6379/6",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "STATIC_ROOT": str(tmp_path / "static"),
    }

    env = run.server_environment(
        database_url=bench_services["DATABASE_URL"],
        broker_url=bench_services["CELERY_BROKER_URL"],
        cache_url=bench_services["CACHE_URL"],
        media_root=bench_services["MEDIA_ROOT"],
        static_root=bench_services["STATIC_ROOT"],
        secret_key="bench key",
    )

    assert set(run.SUBSTITUTED) == set(bench_services) <= set(deployed)
    for name, value in deployed.items():
        assert env[name] == bench_services.get(name, value), name
    extra = set(env) - set(deployed)
    assert extra <= {*run.DOTENV, "SECRET_KEY", "DJANGO_SETTINGS_MODULE", *run.PASSED_THROUGH}
    assert env["DJANGO_SETTINGS_MODULE"] == "bench.settings"
    assert "DATABASE_CONN_MAX_AGE" not in extra and "WEB_CONCURRENCY" not in extra
    # The .env part is secrets and names, and a throttle the load never meets.
    assert set(run.DOTENV) == {
        "ALLOWED_HOSTS",
        "SITE_URL",
        "CREDENTIAL_ENCRYPTION_KEYS",
        "API_THROTTLE_RATE",
    }

    web = shlex.split(spec["services"]["web"]["command"])
    served = run.gunicorn_command(8765)
    bind = web.index("--bind") + 1
    assert served[0].endswith("gunicorn")
    assert served[1:bind] + served[bind + 1 :] == web[1:bind] + web[bind + 1 :]
    assert served[bind] == "127.0.0.1:8765"


def test_bench_settings_add_only_the_measuring_middleware_and_the_baseline_urlconf():
    import importlib

    from caisi_portal import settings as portal

    bench = importlib.import_module("bench.settings")
    names = {n for n in dir(portal) if n.isupper()} | {n for n in dir(bench) if n.isupper()}
    differing = {n for n in names if getattr(portal, n, None) != getattr(bench, n, None)}
    assert differing == {"ROOT_URLCONF", "MIDDLEWARE"}
    assert bench.MIDDLEWARE == ["bench.middleware.measure_request", *portal.MIDDLEWARE]


def small_file(path, mib: int = 2) -> str:
    from bench import run

    return run.make_file(path, mib)


def test_the_resumable_row_cuts_the_upload_off_at_half_and_resumes_it_over_real_http(
    live_server, case_at, settings, tmp_path
):
    """The tus scenario, at 2 MiB: tuspy's pieces, a piece cut off at half, tuspy resuming."""
    from urllib.parse import urlsplit

    import psutil

    from bench import run

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RESUMABLE_UPLOAD_ROOT = tmp_path / "resumable"
    case_at("access")
    weights = tmp_path / "weights.bin"
    sha256 = small_file(weights)
    creation_path, token, grant_id = run.resumable_grant(sha256)

    measured = run.resumable_upload(
        port=urlsplit(live_server.url).port,
        creation_path=creation_path,
        token=token,
        path=weights,
        sha256=sha256,
        chunk=256 * 1024,
        processes=[psutil.Process()],  # the live server answers in this process
    )

    assert measured["half"] == weights.stat().st_size // 2
    assert measured["resumed_at"] == measured["half"]
    assert measured["gone_after"]  # the finished upload is no longer an upload
    checked = run.verified_grant(grant_id, sha256, settings.MEDIA_ROOT)
    assert checked == {"verified": True, "stored_bytes": weights.stat().st_size}
    assert not list((tmp_path / "media").rglob("artifacts/*"))  # the disk is freed after
    row = run.report(
        {
            "http": {},
            "resumable": {
                **measured,
                **checked,
                "chunk_mib": 0.25,
                "sha256sum_mib_s": run.sha256sum_speed(weights),
            },
            "when": "now",
            "cases": 1,
            "gunicorn": "",
            "environment": "",
        },
        {"cores": "2", "cpu": "", "memory": "", "python": "", "load": ""},
        SimpleNamespace(users=1, duration=1),
    )
    assert "cut off at 1 MiB and resumed at 1 MiB; whole file verified" in row


@pytest.mark.django_db(transaction=True)
def test_the_clearance_row_issues_through_http_as_the_officials_pipeline(
    live_server, cast, settings
):
    """Cases brought to findings by the bench are cleared by its request, a 200 each."""
    from urllib.parse import urlsplit

    from bench import clearance, run
    from cases.models import Case

    ready = clearance.ready_cases(
        count=2,
        cast={
            "liaison": cast.liaison,
            "manager": cast.manager,
            "evaluator": cast.evaluator,
            "official": cast.official,
        },
    )
    measured = run.issue_over_http(
        urlsplit(live_server.url).port,
        {"cases": ready, "token": clearance.official_token(cast.official)},
        signed_within=0.1,  # no worker runs here: the PDF is the worker's to sign
    )

    assert measured["cases"] == 2 and measured["statuses"] == [200]
    assert set(
        Case.objects.filter(number__in=[n for n, _ in ready]).values_list("status", flat=True)
    ) == {"cleared"}
    assert 0 < measured["request_median_seconds"] <= measured["request_max_seconds"]
    assert measured["unsigned"] == 2 and measured["signed_median_seconds"] is None


def test_the_bench_runs_the_compose_files_worker_command():
    import shlex

    import yaml

    from bench import run

    spec = yaml.safe_load(run.COMPOSE_FILE.read_text())
    command = run.worker_command()
    assert command[0].endswith("celery")
    assert command[1:] == shlex.split(spec["services"]["worker"]["command"])[1:]


def test_recorded_rows_of_a_section_replace_only_that_sections_rows(tmp_path):
    from bench import run

    results = tmp_path / "RESULTS.md"
    results.write_text("intro\n<!-- rows -->\nother rows\n<!-- rows -->\nreading\n")
    marker = run.rows_marker("polling")
    run.write_between_markers(results, marker, "first run\n")
    run.write_between_markers(results, marker, "second run\n")
    text = results.read_text()
    assert "other rows" in text and "reading" in text and "first run" not in text
    assert text.endswith(f"{marker}\nsecond run\n{marker}\n")
