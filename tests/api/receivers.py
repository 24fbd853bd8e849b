"""Webhook receivers for the tests: a server on this host, the checks receivers make, workers."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import standardwebhooks
from celery.contrib.testing.worker import start_worker

from caisi_portal.celery import app
from webhooks import background


class Receiver:
    """An HTTP receiver on 127.0.0.1 that records every POST and fails the first `failures`."""

    def __init__(self, failures: int = 0, delay: float = 0.0):
        self.failures = failures
        self.delay = delay
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body, "at": time.monotonic()}
                    )
                    fail = receiver.failures > 0
                    receiver.failures -= 1 if fail else 0
                self.send_response(503 if fail else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/caisi"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def events(self, to_status: str | None = None) -> list[dict]:
        with self.lock:
            found = [dict(r, json=json.loads(r["body"])) for r in self.requests]
        return [r for r in found if to_status is None or r["json"].get("to_status") == to_status]


def readme_verifier():
    """Return the README's plain-stdlib `verify_caisi_webhook`, run from the README's own text."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [code] = [
        block
        for block in re.findall(r"```python\n(.*?)```", readme, re.S)
        if "def verify_caisi_webhook" in block
    ]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    return namespace["verify_caisi_webhook"]


def verify_signature(request: dict, secret: str) -> bool:
    """Check a delivery as receivers do: the Standard Webhooks library, and the README's function.

    The headers are a plain dict as the receiver's server read them off the wire.
    """
    try:
        standardwebhooks.Webhook(secret).verify(request["body"], request["headers"])
        by_library = True
    except standardwebhooks.WebhookVerificationError:
        by_library = False
    by_readme = readme_verifier()(secret, request["headers"], request["body"])
    assert by_library == by_readme, "the README's function and the library disagree"
    return by_library


def wait_for(condition, timeout: float = 30, message: str = "condition not met"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(message)


@pytest.fixture
def live_worker(transactional_db, settings):
    """A real Celery worker thread consuming this suite's Redis broker."""
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    if app.conf.task_always_eager:
        pytest.skip("needs CELERY_BROKER_URL pointing at Redis")
    app.control.purge()  # messages left by earlier tests name rows that are gone
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker


@pytest.fixture
def embedded_default(transactional_db, settings):
    """No broker: tasks run in-process, and webhooks go to the background sender."""
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
    wait_for(lambda: background.sender.idle(), message="the background sender is still busy")
