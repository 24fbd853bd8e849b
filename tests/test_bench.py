"""Keep the benchmark's seeder honest: the data it makes is data the portal accepts."""

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
