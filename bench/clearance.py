"""Time issuing clearance as an official does it: the request, and the signed PDF after it.

    python -m bench.clearance embedded [--cases 5]   # the embedded default, all in this process
    python -m bench.clearance prepare [--cases 5]    # cases ready for clearance in DATABASE_URL

`embedded` runs the portal with no settings of its own, as `make run` does
(SQLite, Celery tasks in-process), in a temporary folder: it loads the demo
data, brings cases to the findings step through the services, and times each
official's `POST .../actions/issue_clearance/` through Django's request
handling, then how long until the statement's signed PDF is stored.

`prepare` does the same preparation in the database and broker of its
environment (the bench's, with a worker running) and prints the cases and an
official's token, for the driver to time the requests through gunicorn.

Each prints one JSON line.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIGNED_WITHIN_SECONDS = 120
SCOPE = "General availability through the company's hosted API."
# The title of the cases this opens; the seeder does not count them as its own.
TITLE = "Clearance bench"


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisi_portal.settings")
    import django

    django.setup()


def signing_identity(folder: Path) -> dict[str, str]:
    """Write a development signing identity into the folder; return its settings."""
    from clearance.management.commands.create_signing_identity import write_signing_identity

    key, cert = folder / "statement.key", folder / "statement.crt"
    write_signing_identity(key_path=key, cert_path=cert)
    return {"CLEARANCE_SIGNING_KEY": str(key), "CLEARANCE_SIGNING_CERT": str(cert)}


def ready_cases(*, count: int, cast: dict) -> list[tuple[str, str]]:
    """Open `count` cases and bring each to findings with its findings resolved.

    Returns (number, the label of the version to clear) for each.
    """
    from cases import services
    from review import demo
    from submissions.models import ModelVersion

    ready = []
    for n in range(count):
        case = services.open_case(actor=cast["liaison"], title=f"{TITLE} {n}", model_name="Bench")
        case = demo.advance(case, "findings", cast)
        demo.resolve_findings(case, cast["manager"])
        ready.append((case.number, ModelVersion.objects.under_test(case).label))
    return ready


def official_token(official) -> str:
    from accounts.services import create_api_token

    return create_api_token(user=official, name="clearance bench", read_only=False)[1]


def action_path(number: str) -> str:
    return f"/api/v1/cases/{number}/actions/issue_clearance/"


def action_body(label: str) -> dict:
    return {"version": label, "scope": SCOPE}


def seconds_until_signed(
    number: str, since: float, *, within: float = SIGNED_WITHIN_SECONDS
) -> float | None:
    """Wait until the case's statement has its signed PDF; return the seconds since `since`."""
    from clearance.models import ClearanceStatement

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if ClearanceStatement.objects.filter(case__number=number).exclude(pdf="").exists():
            return time.perf_counter() - since
        time.sleep(0.05)
    return None


def summary(requests: list[float], signed: list[float | None], statuses: list[int]) -> dict:
    done = [s for s in signed if s is not None]
    return {
        "cases": len(requests),
        "statuses": sorted(set(statuses)),
        "request_median_seconds": statistics.median(requests),
        "request_max_seconds": max(requests),
        "signed_median_seconds": statistics.median(done) if done else None,
        "unsigned": len(signed) - len(done),
    }


def embedded(count: int, folder: Path) -> dict:
    """Issue clearance on the embedded default, its files in the folder; return the figures."""
    # The embedded default: no database, broker or cache of a deployment.
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "DEBUG"):
        os.environ.pop(name, None)
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'db.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(folder / "media")
    sys.path.insert(0, str(ROOT))
    os.environ.update(signing_identity(folder))
    setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User

    assert settings.CELERY_TASK_ALWAYS_EAGER  # noqa: S101 - tasks in-process, as embedded
    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    cast = {
        "liaison": User.objects.get(email="liaison@acme.example"),
        "manager": User.objects.get(email="manager@caisi.example"),
        "evaluator": User.objects.get(email="evaluator@caisi.example"),
        "official": User.objects.get(email="official@caisi.example"),
    }
    cases = ready_cases(count=count, cast=cast)
    # The demo's own statements sign in threads of their own: let them finish first.
    for thread in threading.enumerate():
        if thread.name.startswith("task "):
            thread.join(timeout=SIGNED_WITHIN_SECONDS)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {official_token(cast['official'])}")
    requests, signed, statuses = [], [], []
    for number, label in cases:
        started = time.perf_counter()
        response = client.post(
            action_path(number),
            json.dumps(action_body(label)),
            content_type="application/json",
            HTTP_X_FORWARDED_PROTO="https",
            secure=True,
        )
        requests.append(time.perf_counter() - started)
        statuses.append(response.status_code)
        signed.append(seconds_until_signed(number, started))
    return summary(requests, signed, statuses)


def prepare(count: int) -> dict:
    """Bring cases to clearance in the configured database; return them and a token."""
    setup()
    from accounts.models import ConflictOfInterest, Membership, Role, User

    staff = {
        role: User.objects.filter(staff_role=role, is_active=True).order_by("pk").first()
        for role in (Role.CASE_MANAGER, Role.EVALUATOR, Role.CLEARANCE_OFFICIAL)
    }
    conflicted = ConflictOfInterest.objects.filter(user__in=staff.values()).values("organization")
    membership = (
        Membership.objects.exclude(organization__in=conflicted)
        .filter(user__is_active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    cast = {
        "liaison": membership.user,
        "manager": staff[Role.CASE_MANAGER],
        "evaluator": staff[Role.EVALUATOR],
        "official": staff[Role.CLEARANCE_OFFICIAL],
    }
    return {
        "cases": ready_cases(count=count, cast=cast),
        "token": official_token(cast["official"]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["embedded", "prepare"])
    parser.add_argument("--cases", type=int, default=5)
    args = parser.parse_args(argv)
    if args.mode == "embedded":
        folder = Path(tempfile.mkdtemp(prefix="caisi-clearance-bench-"))
        try:
            result = embedded(args.cases, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        result = prepare(args.cases)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
