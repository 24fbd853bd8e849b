"""`make bench`: seed (or reuse) the bench database, serve it with gunicorn, measure, report.

    python -m bench.run [--cases 100000] [--duration 20] [--users 32] [--upload-mib 1024]
                        [--only ROW ... [--record [--section NAME]]]

The server runs as docker-compose.yml configures the web service: its gunicorn
command and the portal's environment (x-portal), with only the bench's own
PostgreSQL database, Redis databases and folders in place of the compose
file's, the secrets a .env would hold (DOTENV), and bench.settings (the
measuring middleware and the baseline view). Every load goes to 127.0.0.1
only, from locust in a separate process, for a bounded time. The figures are
printed as one table and written to bench/RESULTS.md with the machine they
were measured on; a run of some rows (--only) writes them only with --record,
between the file's <!-- rows --> markers (<!-- rows: SECTION --> with --section).
"""

import argparse
import base64
import csv
import datetime as dt
import hashlib
import http.client
import json
import os
import platform
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/caisi_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/5"
# The server's shared cache (throttle counters, tokens, status answers), as in production.
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/6"
SCENARIOS = {
    "baseline": "bare JsonResponse (baseline)",
    "status": "GET /api/v1/cases/{n}/status/ → 200",
    "status_304": "GET /api/v1/cases/{n}/status/ → 304",
    "case_list": "GET /api/v1/cases/ (page of 50)",
    "case_page": "GET /cases/{n}/ (case page)",
    "triage_queue": "GET /desk/ (triage queue)",
    "web_case_list": "GET / (the case list page)",
    "desk_dashboard": "GET /desk/dashboard/ (figures over every case)",
}
# What is measured besides the HTTP load, by --only name.
OUTSIDE_THE_LOAD = ("sweep", "pdf", "upload", "resumable", "clearance")
# The list pages, held to ≤ 8 queries and ≤ 150 ms of server time.
LIST_PAGES = ("case_list", "triage_queue", "web_case_list")
HOST = "127.0.0.1"
COMPOSE_FILE = ROOT / "docker-compose.yml"
# Every request carries what the TLS proxy in front of the compose file's web
# service adds (USE_X_FORWARDED_PROTO=1), so the SSL redirect stays on as deployed.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
# What a deployment's .env holds (its secrets and its own names), as the bench
# sets it. The throttle is raised so that the load never meets a 429; each
# request is still counted against it, at the same cost.
DOTENV = {
    "ALLOWED_HOSTS": HOST,
    "SITE_URL": f"https://{HOST}",
    # A Fernet key of the bench's own: the clearance rows record access credentials.
    "CREDENTIAL_ENCRYPTION_KEYS": base64.urlsafe_b64encode(
        b"the bench's key, never deployed!"
    ).decode(),
    "API_THROTTLE_RATE": "1000000/min",
}
# The compose file's services the bench replaces with its own: a URL keeps its
# scheme and gets the bench's host and database; a folder becomes a temporary one.
SUBSTITUTED = ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "MEDIA_ROOT", "STATIC_ROOT")
# Taken from the driver's own environment: what any process needs to run.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")


def log(message: str) -> None:
    print(f"[bench {dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", flush=True)


# --- the machine ------------------------------------------------------------------------


def machine() -> dict[str, str]:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    load = os.getloadavg()
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{total_kib / 1024**2:.1f} GiB",
        "python": platform.python_version(),
        "load": f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min, at start)",
    }


# --- the people and cases the load uses -------------------------------------------------


def prepare(*, clients: int, pool_size: int = 200) -> dict:
    """Make a token and a session for a case manager, a liaison's upload grant, a case pool."""
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from accounts.models import Membership, Role, User
    from accounts.services import create_api_token
    from cases.models import Case
    from submissions.models import AccessGrant, AccessMethod

    manager = User.objects.filter(staff_role=Role.CASE_MANAGER).order_by("pk").first()
    # One token per connection, as many pipelines polling would hold: each token's
    # throttle history stays as short as in production.
    tokens = [
        create_api_token(user=manager, name=f"bench {secrets.token_hex(4)}")[1]
        for _ in range(clients)
    ]

    def session_for(user) -> str:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        try:  # staff must have passed their second factor; this session stands for one that has
            from accounts import session_keys

            session[session_keys.SECOND_FACTOR_DEVICE] = "bench"
            session[getattr(session_keys, "SECURITY_KEY_ENROLLED", "unused")] = True
        except ImportError:
            pass
        session.create()
        return session.session_key

    # Cases the manager may see: not a company's draft, nor one of a conflicted company.
    numbers = list(
        Case.objects.visible_to(manager).order_by("?").values_list("number", flat=True)[:pool_size]
    )
    case = Case.objects.filter(status="access").select_related("organization").order_by("pk")[0]
    liaison = User.objects.get(
        pk=Membership.objects.filter(organization=case.organization).values("user")[:1]
    )
    grant = AccessGrant.objects.create(
        case=case,
        method=AccessMethod.WEIGHTS_UPLOAD,
        created_by=liaison,
        nda_reference="Bench NDA",
        valid_until=timezone.now() + dt.timedelta(days=30),
    )
    return {
        "token": tokens[0],
        "tokens": tokens,
        "manager_session": session_for(manager),
        "liaison_session": session_for(liaison),
        "numbers": numbers,
        "upload_path": f"/cases/{case.number}/access/{grant.pk}/weights/",
        "cases": Case.objects.count(),
    }


# --- the server -------------------------------------------------------------------------


def compose() -> dict:
    import yaml

    return yaml.safe_load(COMPOSE_FILE.read_text())


def compose_environment() -> dict[str, str]:
    """Return the environment docker-compose.yml gives the portal's services (x-portal)."""
    return {name: str(value) for name, value in compose()["x-portal"]["environment"].items()}


def gunicorn_command(port: int) -> list[str]:
    """Return the compose file's web command, bound to 127.0.0.1:port instead of 0.0.0.0:8000."""
    argv = shlex.split(compose()["services"]["web"]["command"])
    if argv[0] != "gunicorn" or "--bind" not in argv:
        raise SystemExit(f"{COMPOSE_FILE.name}: the web service does not run gunicorn --bind")
    argv[0] = str(BIN / "gunicorn")
    argv[argv.index("--bind") + 1] = f"{HOST}:{port}"
    return argv


def substitute_url(deployed: str, bench: str) -> str:
    """Return the bench's URL for a service the compose file names, refusing another scheme."""
    if urlsplit(deployed).scheme != urlsplit(bench).scheme:
        raise SystemExit(f"the bench's {bench} cannot stand in for the deployment's {deployed}")
    return bench


def server_environment(
    *,
    database_url: str,
    broker_url: str,
    cache_url: str,
    media_root: str,
    static_root: str,
    secret_key: str,
    signing: dict[str, str] | None = None,
) -> dict[str, str]:
    """Return the server's environment: docker-compose.yml's, with the bench's services.

    Nothing of the driver's own environment reaches the server beyond
    PASSED_THROUGH, so a variable set in the shell cannot change what is measured.
    """
    deployed = compose_environment()
    bench = {
        "DATABASE_URL": substitute_url(deployed["DATABASE_URL"], database_url),
        "CELERY_BROKER_URL": substitute_url(deployed["CELERY_BROKER_URL"], broker_url),
        "CACHE_URL": substitute_url(deployed["CACHE_URL"], cache_url),
        "MEDIA_ROOT": media_root,
        "STATIC_ROOT": static_root,
    }
    assert set(bench) == set(SUBSTITUTED)  # noqa: S101
    return {
        **{name: os.environ[name] for name in PASSED_THROUGH if name in os.environ},
        **DOTENV,
        # The statements' signing identity, whose paths .env names (CLEARANCE_SIGNING_*).
        **(signing or {}),
        # The driver made the sessions with this key (see main).
        "SECRET_KEY": secret_key,
        **deployed,
        **bench,
        # The portal's settings plus the measuring middleware and the baseline view.
        "DJANGO_SETTINGS_MODULE": "bench.settings",
    }


def collect_static(env: dict[str, str]) -> None:
    """Collect the static files as the compose file's migrate service does."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


class Server:
    """gunicorn as the compose file's web service runs it, on 127.0.0.1, while the `with` lasts."""

    def __init__(self, env: dict[str, str], port: int, log_dir: str):
        self.env, self.port = env, port
        self.log = Path(log_dir) / "gunicorn.log"

    def __enter__(self) -> "Server":
        with open(self.log, "wb") as log_file:
            self.process = subprocess.Popen(
                gunicorn_command(self.port),
                cwd=ROOT,
                env=self.env,
                start_new_session=True,
                # The access log (stdout) is written, as deployed, and dropped.
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request(self.port, "/bench/baseline/")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise SystemExit(
            "gunicorn did not answer within a minute:\n" + self.log.read_text()[-3000:]
        )

    def workers(self):
        import psutil

        return psutil.Process(self.process.pid).children()

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def request(port: int, path: str, headers: dict | None = None):
    """Return (status, headers) of one GET, the body read and dropped."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.request("GET", path, headers={**PROXY_HEADERS, **(headers or {})})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, dict(response.getheaders())


# --- the load ---------------------------------------------------------------------------


def probe(port: int, path: str, headers: dict, count: int = 20) -> dict:
    """Return the queries and median server time of one request, measured one at a time.

    The first request also fills the shared cache (and may save the session);
    the queries of the ones after it are what a page costs while nothing changes.
    """
    queries, times = [], []
    for _ in range(count):
        status, response_headers = request(port, path, headers)
        queries.append(int(response_headers.get("X-Bench-Queries", -1)))
        times.append(float(response_headers["Server-Timing"].split("dur=")[1]))
    return {
        "queries": max(queries[1:] or queries),
        "first_queries": queries[0],
        "server_ms": statistics.median(times),
        "status": status,
    }


def scenario_request(scenario: str, prepared: dict, etags: dict) -> tuple[str, dict]:
    number = prepared["numbers"][0]
    api = {"Authorization": f"Bearer {prepared['token']}"}
    page = {"Cookie": f"sessionid={prepared['manager_session']}"}
    return {
        "baseline": ("/bench/baseline/", {}),
        "status": (f"/api/v1/cases/{number}/status/", api),
        "status_304": (f"/api/v1/cases/{number}/status/", {**api, "If-None-Match": etags[number]}),
        "case_list": ("/api/v1/cases/", api),
        "case_page": (f"/cases/{number}/", page),
        "triage_queue": ("/desk/", page),
        "web_case_list": ("/", page),
        "desk_dashboard": ("/desk/dashboard/", page),
    }[scenario]


def summarize_profile(raw: Path, top: int = 25) -> str:
    """Return the frames holding the most samples, inclusive and own, from py-spy's raw output."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = [
            f.split(" (")[0] + " (" + f.split(" (")[-1].split("/")[-1] for f in stack.split(";")
        ]
        samples = int(count)
        total += samples
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + samples
        own[frames[-1]] = own.get(frames[-1], 0) + samples
    lines = [f"{total} samples", "", "inclusive (frames under 60%, below the server's own stack):"]
    inner = [(f, n) for f, n in inclusive.items() if n < 0.6 * total]
    for frame, n in sorted(inner, key=lambda kv: -kv[1])[:top]:
        lines.append(f"{100 * n / total:5.1f}%  {frame}")
    lines += ["", "own:"]
    for frame, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"{100 * n / total:5.1f}%  {frame}")
    return "\n".join(lines) + "\n"


def profile_worker(pid: int, seconds: int, out: Path) -> subprocess.Popen:
    """Sample one gunicorn worker with py-spy while the load runs."""
    return subprocess.Popen(
        [
            str(BIN / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run_locust(scenario: str, port: int, prepared: dict, pool_file: Path, args, workdir) -> dict:
    prefix = Path(workdir) / scenario
    env = {
        **os.environ,
        "BENCH_SCENARIO": scenario,
        "BENCH_TOKEN": prepared["token"],
        "BENCH_SESSION": prepared["manager_session"],
        "BENCH_POOL": str(pool_file),
    }
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(args.users),
            "--spawn-rate",
            str(args.users),
            "--run-time",
            f"{args.duration}s",
            "--host",
            f"http://{HOST}:{port}",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "ERROR",
            "--stop-timeout",
            "5",
        ],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # its own summary; the figures are read from its CSV
        timeout=args.duration + 60,
    )
    with open(f"{prefix}_stats.csv") as stats:
        row = next(r for r in csv.DictReader(stats) if r["Name"] == "Aggregated")
    return {
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "p50_ms": float(row["50%"]),
        "p99_ms": float(row["99%"]),
    }


# --- the upload -------------------------------------------------------------------------


def make_file(path: Path, mib: int) -> str:
    """Write `mib` MiB of incompressible bytes; return their SHA-256."""
    digest = hashlib.sha256()
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as out:
        for n in range(mib):
            # Vary each block cheaply, so the file is not one block repeated.
            chunk = n.to_bytes(8, "big") + block[8:]
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def upload(server: Server, prepared: dict, path: Path, sha256: str) -> dict:
    """POST the file as a liaison's weights upload; sample the workers' memory meanwhile."""
    boundary = "bench" + secrets.token_hex(12)
    csrf = secrets.token_hex(16)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="expected_sha256"\r\n\r\n'
        f"{sha256}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="weights.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = path.stat().st_size

    memory = PeakMemory(server.workers())
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, server.port, timeout=600)
    conn.putrequest("POST", prepared["upload_path"])
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.putheader("Cookie", f"sessionid={prepared['liaison_session']}; csrftoken={csrf}")
    conn.putheader("X-CSRFToken", csrf)
    # Over HTTPS (the proxy's header) Django's CSRF check also wants the origin.
    conn.putheader("Origin", f"https://{HOST}:{server.port}")
    for name, value in PROXY_HEADERS.items():
        conn.putheader(name, value)
    conn.putheader("Accept", "application/json")
    conn.endheaders()
    conn.send(head)
    with open(path, "rb") as source:
        while chunk := source.read(1024 * 1024):
            conn.send(chunk)
    conn.send(tail)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    memory.stop()
    return {
        "status": response.status,
        "body": body[:200].decode(errors="replace"),
        "seconds": elapsed,
        "worker_rss_before_mib": memory.before / 2**20,
        "worker_peak_rss_mib": memory.peak / 2**20,
    }


class PeakMemory:
    """Sample the resident memory of these processes until `stop`: the largest one's peak."""

    def __init__(self, processes):
        self.processes = list(processes)
        self.before = self.peak = max(p.memory_info().rss for p in self.processes)
        self.done = threading.Event()
        self.sampler = threading.Thread(target=self._sample)
        self.sampler.start()

    def _sample(self) -> None:
        while not self.done.is_set():
            for process in self.processes:
                try:
                    self.peak = max(self.peak, process.memory_info().rss)
                except Exception:  # noqa: BLE001, S112 - a worker may be replaced; keep sampling
                    continue
            time.sleep(0.02)

    def stop(self) -> None:
        self.done.set()
        self.sampler.join()


# --- the resumable upload (tus) ------------------------------------------------------------


def resumable_grant(sha256: str) -> tuple[str, str, str]:
    """Record a version declaring this digest and a secure-upload grant for it, as a liaison.

    Returns the grant's tus creation path and a read-write token of the liaison.
    """
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import Membership
    from accounts.services import create_api_token
    from cases.models import Case
    from submissions import services
    from submissions.models import AccessMethod

    case = Case.objects.filter(status="access").select_related("organization").order_by("-pk")[0]
    liaison = Membership.objects.filter(organization=case.organization).order_by("pk")[0].user
    version = services.add_version(
        case=case,
        actor=liaison,
        label=f"bench-{sha256[:12]}",
        vcs_reference="git:bench",
        artifact_sha256=sha256,
    )
    grant = services.grant_access(
        case=case,
        actor=liaison,
        model_version=version,
        method=AccessMethod.WEIGHTS_UPLOAD,
        nda_reference="Bench NDA",
        nda_signed_on=timezone.localdate(),
        valid_until=timezone.now() + dt.timedelta(days=30),
    )
    path = reverse("api:weights-uploads", kwargs={"number": case.number, "pk": grant.pk})
    token = create_api_token(user=liaison, name="bench uploads", read_only=False)[1]
    return path, token, str(grant.pk)


def tus_request(port: int, method: str, path: str, token: str, **headers) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.request(
        method,
        path,
        headers={
            **PROXY_HEADERS,
            "Authorization": f"Bearer {token}",
            "Tus-Resumable": "1.0.0",
            **headers,
        },
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}


def drop_piece(port: int, path: str, token: str, source, *, offset: int, sent: int) -> None:
    """PATCH a piece that declares twice `sent` bytes from `offset`, and cut it off after `sent`."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.putrequest("PATCH", path)
    for name, value in {
        **PROXY_HEADERS,
        "Authorization": f"Bearer {token}",
        "Tus-Resumable": "1.0.0",
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": str(offset),
        "Content-Length": str(2 * sent),
    }.items():
        conn.putheader(name, value)
    conn.endheaders()
    source.seek(offset)
    remaining = sent
    while remaining > 0:
        chunk = source.read(min(1024 * 1024, remaining))
        conn.send(chunk)
        remaining -= len(chunk)
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()


def settled_offset(port: int, path: str, token: str, timeout: float = 120) -> int:
    """HEAD the upload until its offset stops moving (the cut-off piece is done); return it."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        status, headers = tus_request(port, "HEAD", path, token)
        if status != 200:
            raise SystemExit(f"HEAD {path} answered {status}")
        offset = int(headers["upload-offset"])
        if offset == last:
            return offset
        last = offset
        time.sleep(0.5)
    raise SystemExit(f"the upload at {path} never settled")


def resumable_upload(
    *, port: int, creation_path: str, token: str, path: Path, sha256: str, chunk: int, processes
) -> dict:
    """Send the file over tus as the README's pipeline does, cut off at half and resumed.

    tuspy sends pieces of `chunk` bytes up to one piece short of half-way; then a
    piece is cut off (the connection dropped) exactly at half; a new tuspy
    uploader, as a pipeline run again after the drop, asks the offset and sends
    the rest. The server's workers' memory is sampled throughout.
    """
    from tusclient import client as tus

    size = path.stat().st_size
    half = size // 2
    memory = PeakMemory(processes)
    headers = {**PROXY_HEADERS, "Authorization": f"Bearer {token}"}
    base = f"http://{HOST}:{port}"
    started = time.perf_counter()
    status, created = tus_request(
        port,
        "POST",
        creation_path,
        token,
        **{
            "Upload-Length": str(size),
            "Upload-Metadata": ",".join(
                f"{k} {base64.b64encode(v.encode()).decode()}"
                for k, v in {"filename": "weights.safetensors", "sha256": sha256}.items()
            ),
        },
    )
    if status != 201:
        raise SystemExit(f"creating the upload answered {status}")
    # The Location names the TLS proxy's https; the bench talks to gunicorn behind it.
    upload_path = urlsplit(created["location"]).path
    url = base + upload_path
    first = tus.TusClient(url, headers=headers).uploader(
        file_path=str(path), url=url, chunk_size=chunk
    )
    short = max(half - chunk, 0)
    if short:
        first.upload(stop_at=short)
    with open(path, "rb") as source:
        drop_piece(
            port,
            upload_path,
            token,
            source,
            offset=first.offset or short,
            sent=half - (first.offset or short),
        )
    resumed_at = settled_offset(port, upload_path, token)
    interrupted = time.perf_counter()
    again = tus.TusClient(url, headers=headers).uploader(
        file_path=str(path), url=url, chunk_size=chunk
    )
    again.upload()
    finished = time.perf_counter()
    memory.stop()
    after, _ = tus_request(port, "HEAD", upload_path, token)
    return {
        "size_mib": size / 2**20,
        "resumed_at": resumed_at,
        "half": half,
        "first_half_seconds": interrupted - started,
        "rest_seconds": finished - interrupted,
        "seconds": finished - started,
        "mib_s": size / 2**20 / (finished - started),
        "gone_after": after == 404,  # a finished upload is no longer resumable
        "worker_rss_before_mib": memory.before / 2**20,
        "worker_peak_rss_mib": memory.peak / 2**20,
    }


# --- issuing clearance ---------------------------------------------------------------------


def worker_command() -> list[str]:
    """Return the compose file's worker command."""
    argv = shlex.split(compose()["services"]["worker"]["command"])
    if argv[0] != "celery":
        raise SystemExit(f"{COMPOSE_FILE.name}: the worker service does not run celery")
    argv[0] = str(BIN / "celery")
    return argv


class Worker:
    """The Celery worker as the compose file's worker service runs it, while the `with` lasts."""

    def __init__(self, env: dict[str, str], log_dir: str):
        self.env = env
        self.log = Path(log_dir) / "worker.log"

    def __enter__(self) -> "Worker":
        with open(self.log, "wb") as log_file:
            self.process = subprocess.Popen(
                worker_command(),
                cwd=ROOT,
                env=self.env,
                start_new_session=True,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if b" ready." in self.log.read_bytes():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        self.__exit__()
        raise SystemExit("the worker did not start:\n" + self.log.read_text()[-3000:])

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def issue_over_http(port: int, prepared: dict, *, signed_within: float = 120) -> dict:
    """Issue clearance on each prepared case as the official's pipeline does, through gunicorn.

    Times each request, then how long until the worker has stored the signed PDF.
    """
    from bench.clearance import action_body, action_path, seconds_until_signed, summary

    requests, signed, statuses = [], [], []
    for number, label in prepared["cases"]:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        started = time.perf_counter()
        conn.request(
            "POST",
            action_path(number),
            body=json.dumps(action_body(label)),
            headers={
                **PROXY_HEADERS,
                "Authorization": f"Bearer {prepared['token']}",
                "Content-Type": "application/json",
            },
        )
        response = conn.getresponse()
        response.read()
        requests.append(time.perf_counter() - started)
        conn.close()
        statuses.append(response.status)
        signed.append(seconds_until_signed(number, started, within=signed_within))
    return summary(requests, signed, statuses)


def verified_grant(grant_id: str, sha256: str, media: Path) -> dict:
    """Return whether the grant holds the whole file, verified; then free its disk space."""
    from submissions.models import AccessGrant

    grant = AccessGrant.objects.get(pk=grant_id)
    verified = grant.checksum_verified and grant.artifact_sha256 == sha256
    if grant.artifact:
        (media / grant.artifact.name).unlink(missing_ok=True)
    return {"verified": bool(verified), "stored_bytes": grant.artifact_size}


def sha256sum_speed(path: Path) -> float:
    """Return sha256sum's MiB/s on the file, warm in the page cache."""
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
    started = time.perf_counter()
    subprocess.run(["sha256sum", str(path)], capture_output=True, check=True)
    return path.stat().st_size / 2**20 / (time.perf_counter() - started)


def hashing(path: Path) -> dict:
    """Compare the portal's hashing path with sha256sum on the same file (both warm)."""
    sys.path.insert(0, str(ROOT))
    from django.core.files import File

    from submissions.uploads import _HashingReader

    size = path.stat().st_size
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # page cache
    started = time.perf_counter()
    out = subprocess.run(["sha256sum", str(path)], capture_output=True, check=True, text=True)
    coreutils = time.perf_counter() - started
    with open(path, "rb") as source:
        reader = _HashingReader(source)
        started = time.perf_counter()
        # Read as storage copies an upload: File.chunks() of Django's default chunk size.
        for _ in File(reader).chunks():
            pass
        portal = time.perf_counter() - started
    assert reader.sha256.hexdigest() == out.stdout.split()[0]  # noqa: S101
    return {
        "sha256sum_mib_s": size / 2**20 / coreutils,
        "portal_mib_s": size / 2**20 / portal,
    }


# --- the tasks measured outside the server ----------------------------------------------


def run_json(module: str, env: dict, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if out.returncode != 0:
        log(f"{module} failed:\n{out.stderr[-3000:]}")
        return {}
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the report -------------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def report(results: dict, info: dict, args) -> str:
    base = results["http"].get("baseline", {}).get("rps") or 0
    lines = [
        "| measure | req/s | p50 ms | p99 ms | × baseline | queries | server ms | target | |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    targets = {
        "status": ("≥ 0.7× baseline, p99 ≤ 50 ms", lambda r, x: x >= 0.7 and r["p99_ms"] <= 50),
        "status_304": ("≥ 0.9× baseline, p99 ≤ 50 ms", lambda r, x: x >= 0.9 and r["p99_ms"] <= 50),
        "case_list": ("≤ 8 queries, ≤ 150 ms", None),
        "case_page": ("none (not a list page)", None),
        "triage_queue": ("≤ 8 queries, ≤ 150 ms", None),
        "web_case_list": ("≤ 8 queries, ≤ 150 ms", None),
        "desk_dashboard": ("none (not a list page)", None),
    }
    for scenario, label in SCENARIOS.items():
        r = results["http"].get(scenario)
        if not r:
            continue
        ratio = r["rps"] / base if base else 0
        target, check = targets.get(scenario, ("", None))
        if scenario in LIST_PAGES:
            ok = r["queries"] <= 8 and r["server_ms"] <= 150
        else:
            ok = check(r, ratio) if check else None
        failures = f" ({r['failures']} failed)" if r["failures"] else ""
        queries = str(r["queries"])
        if r.get("first_queries", r["queries"]) != r["queries"]:
            queries += f" (first {r['first_queries']})"
        lines.append(
            f"| {label}{failures} | {r['rps']:.0f} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} "
            f"| {ratio:.2f} | {queries} | {r['server_ms']:.1f} | {target} | {verdict(ok)} |"
        )
    # The second table: its rows, then its head once any was measured.
    http_rows = len(lines)
    s = results.get("sweep") or {}
    if s:
        lines.append(
            f"| reminder sweep, steady (one {s.get('period', 300)} s beat, "
            f"{s['steady_due']} due of {s['pending']:,} pending / {s['deadlines']:,} deadlines) "
            f"| {s['steady_seconds']:.2f} s | ≤ 2 s | {verdict(s['steady_seconds'] <= 2)} |"
        )
        lines.append(
            f"| reminder sweep, a day's backlog ({s['day_due']:,} due) "
            f"| {s['day_seconds']:.2f} s, {s['day_sent'] / s['day_seconds']:.0f} reminders/s "
            f"| ≤ 2 s | {verdict(s['day_seconds'] <= 2)} |"
        )
        lines.append(
            f"| 4 sweepers at once on that backlog: duplicates "
            f"| {s['duplicates']} ({s['concurrent_sent']} sent, {s['concurrent_rows']} rows, "
            f"{s['concurrent_queued']} queued in {s.get('concurrent_messages', '?')} messages, "
            f"{s['concurrent_seconds']:.2f} s) "
            f"| 0 | {verdict(s['duplicates'] == 0)} |"
        )
    p = results.get("pdf") or {}
    if p:
        lines.append(
            f"| clearance PDF, median of 10 renders (first {p['first_seconds']:.2f} s; "
            f"CPU {p['median_cpu_seconds']:.2f} s) "
            f"| {p['median_seconds']:.2f} s | ≤ 0.5 s | {verdict(p['median_seconds'] <= 0.5)} |"
        )
        lines.append(
            f"| clearance PDF, peak memory of the rendering process "
            f"| {p['peak_rss_mib']:.0f} MiB | ≤ 200 MB | "
            f"{verdict(p['peak_rss_mib'] * 1.048576 <= 200)} |"
        )
    u = results.get("upload") or {}
    if u:
        ok = u["status"] < 300 or u["status"] == 302
        grown = u["worker_peak_rss_mib"] - u["worker_rss_before_mib"]
        lines.append(
            f"| {args.upload_mib} MiB upload through gunicorn (HTTP {u['status']}, "
            f"{u['seconds']:.1f} s): peak RSS of a worker {u['worker_peak_rss_mib']:.0f} MiB, "
            f"of which the idle worker {u['worker_rss_before_mib']:.0f} MiB "
            f"| +{grown:.0f} MiB for the upload | ≤ 100 MB | "
            f"{verdict(ok and grown * 1.048576 <= 100)} |"
        )
    h = results.get("hashing") or {}
    if h:
        ratio = h["portal_mib_s"] / h["sha256sum_mib_s"]
        lines.append(
            f"| SHA-256 of the upload: portal {h['portal_mib_s']:.0f} MiB/s, "
            f"sha256sum {h['sha256sum_mib_s']:.0f} MiB/s | {ratio:.2f}× | ≥ 0.8× | "
            f"{verdict(ratio >= 0.8)} |"
        )
    r = results.get("resumable") or {}
    if r:
        grown = r["worker_peak_rss_mib"] - r["worker_rss_before_mib"]
        at_half = r["resumed_at"] == r["half"]
        lines.append(
            f"| {r['size_mib']:.0f} MiB resumable upload (tus; tuspy, {r['chunk_mib']} MiB "
            f"pieces), cut off at {r['half'] / 2**20:.0f} MiB and resumed at "
            f"{r['resumed_at'] / 2**20:.0f} MiB; whole file "
            f"{'verified' if r['verified'] else '**not verified**'}: "
            f"{r['seconds']:.1f} s ({r['first_half_seconds']:.1f} s to the cut, "
            f"{r['rest_seconds']:.1f} s for the rest); peak RSS of a worker "
            f"{r['worker_peak_rss_mib']:.0f} MiB, of which the idle worker "
            f"{r['worker_rss_before_mib']:.0f} MiB "
            f"| resumed where it stopped, +{grown:.0f} MiB for the upload "
            f"| resumes at half, ≤ 100 MB | "
            f"{verdict(at_half and r['verified'] and grown * 1.048576 <= 100)} |"
        )
        lines.append(
            f"| that upload's throughput: {r['mib_s']:.0f} MiB/s end to end (HTTP, hashing, "
            f"disk), sha256sum {r['sha256sum_mib_s']:.0f} MiB/s on the same file "
            f"| {r['mib_s'] / r['sha256sum_mib_s']:.2f}× sha256sum | none | — |"
        )
    for key, where in (
        ("clearance_embedded", "embedded default (SQLite, tasks in-process)"),
        ("clearance", "compose configuration (gunicorn; the compose file's worker signs)"),
    ):
        c = results.get(key) or {}
        if not c:
            continue
        signed = (
            f"signed PDF stored {c['signed_median_seconds']:.1f} s after the request (median)"
            if c["signed_median_seconds"] is not None
            else "**no PDF signed**"
        )
        if c["unsigned"]:
            signed += f", {c['unsigned']} not signed within 120 s"
        lines.append(
            f"| issuing clearance, {where}: the official's request, median of {c['cases']} "
            f"(max {c['request_max_seconds']:.2f} s; HTTP {', '.join(map(str, c['statuses']))}); "
            f"{signed} | {c['request_median_seconds']:.2f} s | ≤ 0.5 s | "
            f"{verdict(c['request_median_seconds'] <= 0.5 and c['statuses'] == [200])} |"
        )
    if len(lines) > http_rows:
        lines[http_rows:http_rows] = ["", "| measure | result | target | |", "|---|---|---|---|"]
    header = [
        f"Measured {results['when']} on {info['cores']} cores ({info['cpu']}), "
        f"{info['memory']} memory, Python {info['python']}; load average {info['load']}.",
        f"{results['cases']:,} cases; served as docker-compose.yml configures the web service "
        f"(`gunicorn {results['gunicorn']}`; {results['environment']}); locust with "
        f"{args.users} users, no think time, {args.duration} s per row, on the same machine.",
        "",
    ]
    return "\n".join(header + lines) + "\n"


# --- the run ----------------------------------------------------------------------------


def rows_marker(section: str) -> str:
    return f"<!-- rows: {section} -->" if section else "<!-- rows -->"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per row")
    parser.add_argument("--users", type=int, default=32, help="concurrent connections")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--upload-mib", type=int, default=1024)
    parser.add_argument("--resumable-mib", type=int, default=5120, help="the tus upload's size")
    parser.add_argument(
        "--resumable-chunk-mib", type=int, default=64, help="tuspy's piece (the README's)"
    )
    parser.add_argument("--clearance-cases", type=int, default=5, help="statements issued")
    parser.add_argument(
        "--only", nargs="*", default=None, help="scenarios, " + ", ".join(OUTSIDE_THE_LOAD)
    )
    parser.add_argument("--results", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument(
        "--record",
        action="store_true",
        help="with --only, write the rows between the <!-- rows --> markers of the results",
    )
    parser.add_argument(
        "--section",
        default="",
        help="with --record, the markers <!-- rows: SECTION --> instead, so that rows "
        "measured for different purposes each keep their own place",
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy one worker; bench/profiles/<row>.txt"
    )
    args = parser.parse_args(argv)
    wanted = set(args.only) if args.only else set(SCENARIOS) | set(OUTSIDE_THE_LOAD)

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    broker_url = os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER_URL)
    info = machine()
    log(f"seeding {args.cases:,} cases (or reusing them) into the bench database")
    subprocess.run(
        [sys.executable, "-m", "bench.seed", "--cases", str(args.cases), "--reuse"],
        cwd=ROOT,
        env={**os.environ, "BENCH_DATABASE_URL": database_url},
        check=True,
    )
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisi_portal.settings")
    os.environ["CELERY_BROKER_URL"] = ""
    # One key for the sessions made here and the server that reads them.
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(40)
    sys.path.insert(0, str(ROOT))
    prepared = prepare(clients=args.users)
    deployed = compose_environment()
    results = {
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cases": prepared["cases"],
        "gunicorn": shlex.join(gunicorn_command(args.port)[1:]),
        "environment": ", ".join(
            f"{name}={value}" for name, value in deployed.items() if name not in SUBSTITUTED
        ),
        "http": {},
    }

    with tempfile.TemporaryDirectory(prefix="caisi-bench-") as workdir:
        media = Path(workdir) / "media"
        media.mkdir()
        cache_url = os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE_URL)
        import redis

        # The data was seeded without the server: nothing cached may predate it.
        redis.Redis.from_url(cache_url).flushdb()
        from bench.clearance import signing_identity

        env = server_environment(
            database_url=database_url,
            broker_url=broker_url,
            cache_url=cache_url,
            media_root=str(media),
            static_root=str(Path(workdir) / "static"),
            secret_key=os.environ["SECRET_KEY"],
            signing=signing_identity(Path(workdir) / "signing"),
        )
        log("collecting static files, as the compose file's migrate service does")
        collect_static(env)
        with Server(env, args.port, workdir) as server:
            api = {"Authorization": f"Bearer {prepared['token']}"}
            etags = {}
            for n in prepared["numbers"]:
                code, answer = request(args.port, f"/api/v1/cases/{n}/status/", api)
                if "ETag" not in answer:
                    raise SystemExit(
                        f"the status of {n} answered {code} with no ETag: {answer}\n"
                        + (Path(workdir) / "gunicorn.log").read_text()[-3000:]
                    )
                etags[n] = answer["ETag"]
            pool_file = Path(workdir) / "pool.json"
            pool_file.write_text(
                json.dumps(
                    {"numbers": prepared["numbers"], "etags": etags, "tokens": prepared["tokens"]}
                )
            )
            for scenario in SCENARIOS:
                if scenario not in wanted:
                    continue
                path, headers = scenario_request(scenario, prepared, etags)
                measured = probe(args.port, path, headers)
                log(f"{scenario}: {measured['queries']} queries, {measured['server_ms']:.1f} ms")
                spy = None
                if args.profile:
                    raw = Path(workdir) / f"{scenario}.raw"
                    spy = profile_worker(server.workers()[0].pid, max(args.duration - 4, 2), raw)
                load = run_locust(scenario, args.port, prepared, pool_file, args, workdir)
                if spy is not None:
                    spy.wait(timeout=60)
                    profiles = ROOT / "bench" / "profiles"
                    profiles.mkdir(exist_ok=True)
                    (profiles / f"{scenario}.txt").write_text(summarize_profile(raw))
                log(f"{scenario}: {load['rps']:.0f} req/s, p99 {load['p99_ms']:.0f} ms")
                results["http"][scenario] = {**measured, **load}
            if "upload" in wanted:
                big = Path(workdir) / "weights.bin"
                log(f"writing a {args.upload_mib} MiB file and uploading it")
                sha256 = make_file(big, args.upload_mib)
                results["upload"] = upload(server, prepared, big, sha256)
                log(f"upload: {results['upload']}")
                results["hashing"] = hashing(big)
                big.unlink()
            if "resumable" in wanted:
                big = Path(workdir) / "weights-resumable.bin"
                log(f"writing a {args.resumable_mib} MiB file and uploading it over tus")
                sha256 = make_file(big, args.resumable_mib)
                creation_path, token, grant_id = resumable_grant(sha256)
                results["resumable"] = resumable_upload(
                    port=args.port,
                    creation_path=creation_path,
                    token=token,
                    path=big,
                    sha256=sha256,
                    chunk=args.resumable_chunk_mib * 2**20,
                    processes=server.workers(),
                )
                results["resumable"].update(
                    verified_grant(grant_id, sha256, media),
                    chunk_mib=args.resumable_chunk_mib,
                    sha256sum_mib_s=sha256sum_speed(big),
                )
                big.unlink()
                log(f"resumable: {results['resumable']}")
            if "clearance" in wanted:
                log("issuing clearance through gunicorn, the compose file's worker signing")
                with Worker(env, workdir):
                    ready = run_json(
                        "bench.clearance", env, "prepare", "--cases", str(args.clearance_cases)
                    )
                    results["clearance"] = issue_over_http(args.port, ready) if ready else {}
                log(f"clearance: {results['clearance']}")

    task_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "LOG_LEVEL": "WARNING",
    }
    if "sweep" in wanted:
        log("reminder sweep")
        results["sweep"] = run_json("bench.sweep", task_env)
    if "pdf" in wanted:
        log("clearance PDF")
        results["pdf"] = run_json("bench.pdf", {**task_env, "CELERY_BROKER_URL": ""})
    if "clearance" in wanted:
        log("issuing clearance on the embedded default")
        # No settings at all, as `make run` has: only what any process needs.
        embedded = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        results["clearance_embedded"] = run_json(
            "bench.clearance", embedded, "embedded", "--cases", str(args.clearance_cases)
        )
        log(f"clearance, embedded: {results['clearance_embedded']}")

    table = report(results, info, args)
    print()
    print(table)
    if args.only is None or args.record:
        marker = "<!-- table -->" if args.only is None else rows_marker(args.section)
        write_between_markers(Path(args.results), marker, table)
        log(f"written to {args.results}")


def write_between_markers(path: Path, marker: str, table: str) -> None:
    """Put the table between the file's two markers, or at its end between new ones."""
    text = path.read_text() if path.exists() else ""
    if marker in text:
        start, rest = text.split(marker, 1)
        end = rest.split(marker, 1)[1] if marker in rest else ""
        text = f"{start}{marker}\n{table}{marker}{end}"
    elif marker == "<!-- table -->":
        text = f"# Benchmark results\n\n{marker}\n{table}{marker}\n"
    else:
        text = f"{text}\n{marker}\n{table}{marker}\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
