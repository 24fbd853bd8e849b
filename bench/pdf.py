"""Time the clearance statement's PDF: ten renders of one statement, and the peak memory.

A statement is issued for a cleared case of the bench database inside a
transaction that is rolled back, so nothing is left behind. Prints one JSON line.
"""

import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisi_portal.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from cases.models import Case  # noqa: E402
from clearance.pdf import SigningIdentityMissing, render_pdf, sign_pdf  # noqa: E402
from clearance.services import create_statement  # noqa: E402

RENDERS = 10


class Rollback(Exception):
    pass


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    result = {}
    try:
        with transaction.atomic():
            case = (
                Case.objects.filter(status="cleared", versions__isnull=False)
                .select_related("organization")
                .order_by("pk")
                .first()
            )
            official = User.objects.filter(staff_role=Role.CLEARANCE_OFFICIAL).first()
            statement = create_statement(
                case=case,
                official=official,
                scope="General availability through the company's hosted API.",
                conditions="Refusal guardrails stay enabled.",
            )
            result["rss_before_mib"] = peak_rss_mib()
            times, cpu_times, sign_times = [], [], []
            for _ in range(RENDERS):
                started, cpu_started = time.perf_counter(), time.process_time()
                pdf = render_pdf(statement)
                times.append(time.perf_counter() - started)
                # CPU time too: on a shared machine, wall time includes waiting for a core.
                cpu_times.append(time.process_time() - cpu_started)
                try:
                    started = time.perf_counter()
                    sign_pdf(pdf)
                    sign_times.append(time.perf_counter() - started)
                except SigningIdentityMissing:
                    pass
            result["first_seconds"] = times[0]
            result["median_seconds"] = statistics.median(times)
            result["median_cpu_seconds"] = statistics.median(cpu_times)
            result["sign_median_seconds"] = statistics.median(sign_times) if sign_times else None
            result["pdf_bytes"] = len(pdf)
            result["peak_rss_mib"] = peak_rss_mib()
            raise Rollback
    except Rollback:
        pass
    print(json.dumps(result))


if __name__ == "__main__":
    main()
