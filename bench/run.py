"""`make bench`: seed (or reuse) the bench database, serve it with gunicorn, measure, report.

    python -m bench.run [--cases 100000] [--duration 20] [--users 32] [--upload-mib 1024]
                        [--only ROW ... [--record]]

The server runs as docker-compose.yml configures the web service: its gunicorn
command and the portal's environment (x-portal), with only the bench's own
PostgreSQL database, Redis databases and folders in place of the compose
file's, the secrets a .env would hold (DOTENV), and bench.settings (the
measuring middleware and the baseline view). Every load goes to 127.0.0.1
only, from locust in a separate process, for a bounded time. The figures are
printed as one table and written to bench/RESULTS.md with the machine they
were measured on; a run of some rows (--only) writes them only with --record,
between the file's <!-- rows --> markers.
"""

import argparse
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
    "CREDENTIAL_ENCRYPTION_KEYS": "bench-unused-" + "A" * 31 + "=",
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
        Case.objects.visible_to(manager)
        .order_by("?")
        .values_list("number", flat=True)[:pool_size]
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

    workers = server.workers()
    before = max(w.memory_info().rss for w in workers)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            for worker in workers:
                try:
                    peak[0] = max(peak[0], worker.memory_info().rss)
                except Exception:  # noqa: BLE001, S112 - a worker may be replaced; keep sampling
                    continue
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
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
    done.set()
    sampler.join()
    return {
        "status": response.status,
        "body": body[:200].decode(errors="replace"),
        "seconds": elapsed,
        "worker_rss_before_mib": before / 2**20,
        "worker_peak_rss_mib": peak[0] / 2**20,
    }


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


def run_json(module: str, env: dict) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", module],
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per row")
    parser.add_argument("--users", type=int, default=32, help="concurrent connections")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--upload-mib", type=int, default=1024)
    parser.add_argument("--only", nargs="*", default=None, help="scenarios, sweep, pdf, upload")
    parser.add_argument("--results", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument(
        "--record",
        action="store_true",
        help="with --only, write the rows between the <!-- rows --> markers of the results",
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy one worker; bench/profiles/<row>.txt"
    )
    args = parser.parse_args(argv)
    wanted = set(args.only) if args.only else set(SCENARIOS) | {"sweep", "pdf", "upload"}

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
        env = server_environment(
            database_url=database_url,
            broker_url=broker_url,
            cache_url=cache_url,
            media_root=str(media),
            static_root=str(Path(workdir) / "static"),
            secret_key=os.environ["SECRET_KEY"],
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

    table = report(results, info, args)
    print()
    print(table)
    if args.only is None or args.record:
        results_path = Path(args.results)
        text = results_path.read_text() if results_path.exists() else ""
        marker = "<!-- table -->" if args.only is None else "<!-- rows -->"
        if marker in text:
            start, rest = text.split(marker, 1)
            end = rest.split(marker, 1)[1] if marker in rest else ""
            text = f"{start}{marker}\n{table}{marker}{end}"
        elif args.only is None:
            text = f"# Benchmark results\n\n{marker}\n{table}{marker}\n"
        else:
            text = f"{text}\n{marker}\n{table}{marker}\n"
        results_path.write_text(text)
        log(f"written to {results_path}")


if __name__ == "__main__":
    main()
