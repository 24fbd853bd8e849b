"""Static files as production serves them: collected with DEBUG=0 into the manifest storage,
then referenced by their hashed names and served by WhiteNoise under gunicorn."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.test_deployment import production_environ

ROOT = Path(__file__).resolve().parent.parent
# Files built or copied from npm packages: USWDS (make assets) and Chart.js.
VENDORED = (ROOT / "static" / "vendor", ROOT / "static" / "uswds")
# What the TLS proxy in front of the deployment adds (USE_X_FORWARDED_PROTO=1).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def test_every_vendored_source_map_reference_names_a_shipped_file():
    """The manifest storage follows each sourceMappingURL; a missing map fails collectstatic."""
    references = 0
    for path in sorted(path for folder in VENDORED for path in folder.rglob("*")):
        if path.suffix not in {".js", ".css"}:
            continue
        for name in re.findall(r"sourceMappingURL=([^\s*]+)", path.read_text(errors="replace")):
            references += 1
            assert (path.parent / name).is_file(), f"{path.relative_to(ROOT)} names {name}"
    assert references >= 3  # USWDS's two scripts, Chart.js


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=PROXY_HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our server
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def production_env(tmp_path) -> dict:
    """Production settings (DEBUG=0, so the compressed manifest storage) with scratch folders."""
    return {
        **production_environ(),
        "DEBUG": "0",
        "SECRET_KEY": "k7#Qx!2mZ9vL@4pR8sT1wY6uE3oI0aN5bC-jH_gF+dK=lM^zX%",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://127.0.0.1",
        "USE_X_FORWARDED_PROTO": "1",
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        # The sign-in page reads nothing from the database; none is needed.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "CELERY_BROKER_URL": "",
        "CACHE_URL": "",
        "DJANGO_SETTINGS_MODULE": "caisi_portal.settings",
    }


@pytest.fixture
def gunicorn(production_env, tmp_path):
    """Start gunicorn on a free port of 127.0.0.1 with the environment; stop it afterwards."""
    started = []
    log = tmp_path / "gunicorn.log"

    def start() -> int:
        port = free_port()
        with log.open("wb") as log_file:
            process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "caisi_portal.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                ],
                cwd=ROOT,
                env=production_env,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
                start_new_session=True,
            )
        started.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError("gunicorn exited:\n" + log.read_text())
            try:
                get(port, "/accounts/login/")
                return port
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not answer within a minute")

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_collectstatic_with_debug_off_then_gunicorn_serves_the_hashed_files(
    production_env, gunicorn
):
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=production_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    static_root = Path(production_env["STATIC_ROOT"])
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    assert "vendor/chartjs/chart.umd.min.js.map" in manifest

    port = gunicorn()
    status, _, body = get(port, "/accounts/login/")
    assert status == 200
    page = body.decode()
    urls = re.findall(r'<(?:link|script)\b[^>]*?\b(?:href|src)="(/static/[^"]+)"', page)
    assert any(url.endswith(".css") for url in urls), page
    assert any(url.endswith(".js") for url in urls), page
    hashed = {f"/static/{name}" for name in manifest.values()}
    for url in urls:
        # name.0123456789ab.ext: the manifest's name, never the plain one.
        assert re.search(r"\.[0-9a-f]{12}\.(css|js|ico|png|svg)$", url), url
        assert url in hashed, url

    stylesheet = next(url for url in urls if "uswds" in url and url.endswith(".css"))
    status, headers, body = get(port, stylesheet)
    assert status == 200
    assert body == (static_root / stylesheet.removeprefix("/static/")).read_bytes()
    # A hashed name never changes content, so browsers may keep it for good.
    assert "immutable" in headers["Cache-Control"]
    assert headers["Content-Type"].startswith("text/css")
