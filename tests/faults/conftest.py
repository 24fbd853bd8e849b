"""Faults made for real: a private Redis that is stopped and started, workers killed, backends cut.

The live-worker fixtures come from tests/clearance/conftest.py. A test that
stops its broker gets a private `redis-server` of its own, never the
machine's Redis that the rest of the suite shares.
"""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.clearance import conftest as clearance
from tests.clearance.conftest import ROOT, LiveWorker, wait_for

# The live-worker fixtures, shared with the clearance suite.
signing_identity = clearance.signing_identity
statement_settings = clearance.statement_settings
worker_env = clearance.worker_env
start_worker = clearance.start_worker
live_worker = clearance.live_worker


def _free_port(first: int = 6391, last: int = 6420) -> int:
    for port in range(first, last):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"No free port for a private Redis in {first}-{last}")


class PrivateRedis:
    """A `redis-server` on its own port, with no persistence, that a test may stop and start."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> "PrivateRedis":
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, timeout=timeout, interval=0.05, message="Redis did not start")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        wait_for(lambda: not self.answers(), timeout=10, message="Redis did not stop")

    def answers(self) -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)


@pytest.fixture
def private_redis(tmp_path):
    broker = PrivateRedis(tmp_path).start()
    yield broker
    broker.stop()


def worker_command(hostname: str) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "caisi_portal", "worker", "--pool=solo",
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "-n", hostname,
    ]  # fmt: skip


@pytest.fixture
def start_private_worker(worker_env, artifacts_dir, request):
    """Return a function that starts a worker on a given broker; all are stopped at the end.

    Readiness is read from the worker's log: a ping would travel through the
    test process's own broker, which is not this worker's.
    """
    workers: list[LiveWorker] = []

    def start(broker_url: str, timeout: float = 60, **extra_env: str) -> LiveWorker:
        log_path = Path(artifacts_dir) / f"worker-{request.node.name}-{len(workers)}.log"
        log_path.unlink(missing_ok=True)
        env = {**worker_env, "CELERY_BROKER_URL": broker_url, **extra_env}
        worker = LiveWorker(env=env, log_path=log_path)
        workers.append(worker)
        with open(log_path, "ab") as log:
            worker.process = subprocess.Popen(  # noqa: S603 - fixed arguments
                worker_command(worker.hostname), cwd=ROOT, env=env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if worker.process.poll() is not None:
                raise RuntimeError(f"The worker exited: see {log_path}")
            if b" ready." in log_path.read_bytes():
                return worker
            time.sleep(0.1)
        raise RuntimeError(f"The worker was not ready within {timeout}s: see {log_path}")

    yield start
    for worker in workers:
        worker.stop()
