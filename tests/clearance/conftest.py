"""Fixtures for clearance statements: a signing identity, private media, a live worker.

`live_worker` starts a real `celery -A caisi_portal worker` subprocess on the
test's Redis broker and test database; other suites can use it with
`from tests.clearance.conftest import live_worker  # noqa: F401`.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.db import connection

from caisi_portal.celery import app
from clearance.management.commands.create_signing_identity import write_signing_identity

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def signing_identity(tmp_path_factory):
    """A self-signed statement-signing key and certificate, made once per test run."""
    folder = tmp_path_factory.mktemp("signing")
    key, cert_path = folder / "statement.key", folder / "statement.crt"
    cert = write_signing_identity(key_path=key, cert_path=cert_path, passphrase="test-passphrase")
    return SimpleNamespace(key=key, cert=cert_path, passphrase="test-passphrase", cert_obj=cert)


@pytest.fixture
def statement_settings(settings, signing_identity, tmp_path):
    """Point the portal at the test signing identity and a private media folder."""
    settings.CLEARANCE_SIGNING_KEY = str(signing_identity.key)
    settings.CLEARANCE_SIGNING_CERT = str(signing_identity.cert)
    settings.CLEARANCE_SIGNING_PASSPHRASE = signing_identity.passphrase
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class LiveWorker:
    """A `celery worker` subprocess sharing the test's broker, database and media."""

    def __init__(self, *, env: dict, log_path: Path):
        self.env = env
        self.log_path = log_path
        self.hostname = f"clearance-test-{uuid.uuid4().hex[:8]}@localhost"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "LiveWorker":
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "caisi_portal",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                self.hostname,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The worker exited: see {self.log_path}")
            if app.control.ping(destination=[self.hostname], timeout=0.5):
                return self
        self.stop()
        raise RuntimeError(f"The worker did not answer within {timeout}s: see {self.log_path}")

    def wait_idle(self, timeout: float = 90) -> None:
        """Wait until the queue is empty and this worker runs and holds no task."""

        def idle() -> bool:
            if queue_length() != 0:
                return False
            inspect = app.control.inspect(destination=[self.hostname], timeout=1.0)
            active, reserved = inspect.active(), inspect.reserved()
            if not active or not reserved:  # no reply yet: the worker is busy
                return False
            return not active.get(self.hostname) and not reserved.get(self.hostname)

        wait_for(idle, timeout=timeout, interval=0.3, message=f"{self.hostname} stayed busy")

    def kill(self) -> None:
        """SIGKILL the worker: no shutdown, no acknowledgements, no cleanup."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def queue_length(queue: str = "celery") -> int:
    """Return how many messages wait in the Redis queue."""
    import redis

    return redis.Redis.from_url(django_settings.CELERY_BROKER_URL).llen(queue)


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.2, message: str = ""):
    """Poll until predicate() returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(message or f"Timed out after {timeout}s waiting for {predicate}")


@pytest.fixture
def worker_env(transactional_db, statement_settings):
    """The environment a worker subprocess needs to share this test's world."""
    if not django_settings.CELERY_BROKER_URL:
        pytest.skip("A live worker needs CELERY_BROKER_URL (Redis).")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "caisi_portal.settings",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "MEDIA_ROOT": str(statement_settings.MEDIA_ROOT),
        "CLEARANCE_SIGNING_KEY": statement_settings.CLEARANCE_SIGNING_KEY,
        "CLEARANCE_SIGNING_CERT": statement_settings.CLEARANCE_SIGNING_CERT,
        "CLEARANCE_SIGNING_PASSPHRASE": statement_settings.CLEARANCE_SIGNING_PASSPHRASE,
        "SITE_URL": django_settings.SITE_URL,
    }
    # Messages left by earlier runs must not reach this test's worker.
    app.control.purge()
    return env


@pytest.fixture
def start_worker(worker_env, artifacts_dir, request):
    """Return a function that starts a worker; every worker is stopped when the test ends."""
    workers: list[LiveWorker] = []

    def start() -> LiveWorker:
        log_path = Path(artifacts_dir) / f"worker-{request.node.name}-{len(workers)}.log"
        worker = LiveWorker(env=worker_env, log_path=log_path)
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def live_worker(start_worker):
    """One running worker for the test."""
    return start_worker()
