"""The deployment files: the compose file names real entry points; production settings pass
`check --deploy`, keep database connections and can store uploads in S3."""

import importlib
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_SERVICES = {"web", "worker", "beat", "db", "redis"}


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def commands_of(service: dict) -> list[list[str]]:
    command = service.get("command", "")
    if isinstance(command, list):
        return [command]
    if command.startswith("sh -c "):
        command = shlex.split(command)[2]
    return [shlex.split(part) for part in re.split(r"&&|;", command) if part.strip()]


def test_compose_has_every_service_with_a_healthcheck_and_volumes():
    spec = compose()
    services = spec["services"]
    assert REQUIRED_SERVICES <= set(services)
    for name in REQUIRED_SERVICES:
        assert "healthcheck" in services[name], name
    assert {"pgdata", "redisdata", "media"} <= set(spec["volumes"])
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


def test_compose_commands_name_real_modules_and_commands():
    services = compose()["services"]
    django_commands = get_commands()
    checked = 0
    for name, service in services.items():
        for argv in commands_of(service):
            program = argv[0]
            if program == "gunicorn":
                module, attribute = argv[1].split(":")
                assert hasattr(importlib.import_module(module), attribute), name
            elif program == "celery":
                app_module = argv[argv.index("-A") + 1]
                assert hasattr(importlib.import_module(app_module), "celery_app"), name
                assert argv[argv.index("-A") + 2] in {"worker", "beat"}, name
            elif program == "python" and argv[1] == "manage.py":
                assert argv[2] in django_commands, (name, argv[2])
            elif program in {"redis-server", "postgres"}:
                continue
            else:
                raise AssertionError(f"{name}: unexpected command {argv}")
            checked += 1
    assert checked >= 5


def production_environ() -> dict:
    """Return this environment without what only the browser tests set."""
    return {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def test_check_deploy_with_production_settings_prints_no_warning():
    env = {
        **production_environ(),
        "DEBUG": "0",
        "SECRET_KEY": "k7#Qx!2mZ9vL@4pR8sT1wY6uE3oI0aN5bC-jH_gF+dK=lM^zX%",
        "ALLOWED_HOSTS": "portal.caisi.example",
        "SITE_URL": "https://portal.caisi.example",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in production_environ().items() if k != "SECRET_KEY"}
    env["DEBUG"] = "0"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def settings_in_subprocess(env: dict, expression: str):
    """Return the JSON value of `expression`, evaluated once settings are loaded from `env`."""
    script = (
        "import json, django; django.setup(); "
        "from django.conf import settings; "
        "from django.core.files.storage import default_storage; "
        f"print(json.dumps({expression}))"
    )
    result = subprocess.run(  # noqa: S603 - the tests' own script
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "caisi_portal.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_keeps_database_connections_and_checks_them_before_reuse():
    env = {
        **production_environ(),
        "DEBUG": "0",
        "SECRET_KEY": "a production secret key for this test only, long enough",
    }
    env.pop("DATABASE_CONN_MAX_AGE", None)
    database = 'settings.DATABASES["default"]'
    expression = f'[{database}["CONN_MAX_AGE"], {database}["CONN_HEALTH_CHECKS"]]'

    assert settings_in_subprocess(env, expression) == [60, True]
    # runserver's thread per request would never reuse a connection.
    assert settings_in_subprocess({**env, "DEBUG": "1"}, expression) == [0, True]
    compose_env = compose()["x-portal"]["environment"]
    assert compose_env["DATABASE_CONN_MAX_AGE"] == "60"


def test_a_bucket_name_stores_uploads_in_s3_through_the_declared_extra():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = pyproject["project"]["optional-dependencies"]
    assert any(req.startswith("django-storages[s3]") for req in extras["s3"])
    assert any(req.startswith("django-storages[s3]") for req in extras["dev"])
    env = {
        **production_environ(),
        "AWS_STORAGE_BUCKET_NAME": "caisi-uploads",
        # Nothing listens there: the storage must be built without the network.
        "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    expression = (
        "{'s3': isinstance(default_storage, __import__('storages.backends.s3', "
        "fromlist=['S3Storage']).S3Storage), 'bucket': default_storage.bucket_name, "
        "'overwrite': default_storage.file_overwrite, "
        "'url': default_storage.url('documents/0123abcd')}"
    )

    storage = settings_in_subprocess(env, expression)

    assert storage["s3"] is True
    assert storage["bucket"] == "caisi-uploads"
    # Inspect logs keep their uploaded names: one case's must never replace another's.
    assert storage["overwrite"] is False
    # A signed link to the endpoint named, computed locally.
    assert storage["url"].startswith("http://127.0.0.1:9/caisi-uploads/documents/0123abcd?")
    assert "Signature=" in storage["url"]


def concurrent_sqlite_writes() -> list[str]:
    """Write from two threads at once, one having read first in its transaction; return errors.

    Run in a process whose settings use SQLite, as the embedded default's
    request and its in-process tasks do.
    """
    import threading
    import time

    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS written (x integer)")
    errors, has_read = [], threading.Event()

    def read_then_write() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM written")
                has_read.set()
                time.sleep(0.5)
                cursor.execute("INSERT INTO written VALUES (1)")
        except Exception as error:  # noqa: BLE001 - the errors are what is returned
            errors.append(str(error))
        finally:
            has_read.set()
            connection.close()

    def write() -> None:
        has_read.wait(10)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("INSERT INTO written VALUES (2)")
        except Exception as error:  # noqa: BLE001
            errors.append(str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=read_then_write), threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_on_the_embedded_default_concurrent_writers_wait_their_turn(tmp_path):
    """A request and a statement signed in its own thread both write SQLite: neither fails."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    expression = '__import__("tests.test_deployment", fromlist=["_"]).concurrent_sqlite_writes()'
    assert settings_in_subprocess(env, expression) == []
