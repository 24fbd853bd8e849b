"""Run by tests/embedded/test_embedded_default.py in a process of its own.

The portal as `make run` serves it (SQLite, no broker, tasks in-process),
with the demo seeded: the evaluator of the demo case in testing imports each
Inspect log named on the command line, through the web page and through the
API, as a person and a pipeline would. Print one JSON object: for each log
and each way in, the answer's status code and what the portal kept or said.
"""

import json
import sys
from pathlib import Path

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import create_api_token  # noqa: E402
from cases.models import Case  # noqa: E402
from findings.models import EvaluationRun  # noqa: E402
from findings.policy import can_record_evaluation  # noqa: E402
from review.services import assign_evaluator  # noqa: E402
from tests.embedded.walk import signed_in  # noqa: E402

EVALUATOR = "evaluator@caisi.example"
MANAGER = "manager@caisi.example"


def kept(run: EvaluationRun) -> dict:
    return {
        "status": run.status,
        "inspect_status": run.inspect_status,
        "error": bool(run.inspect_error),
        "total": run.inspect_total_samples,
        "completed": run.inspect_completed_samples,
        "sample_errors": run.inspect_sample_errors,
        "indexed": run.samples.count(),
        "metrics": run.metrics,
        "notes": run.metric_notes,
    }


def by_page(client, case: Case, path: Path) -> dict:
    version = case.versions.order_by("-pk").first()
    before = set(EvaluationRun.objects.filter(case=case).values_list("pk", flat=True))
    with path.open("rb") as log:
        response = client.post(
            f"/cases/{case.number}/evaluations/import/",
            {"log": log, "category": "other", "title": "", "model_version": version.pk},
        )
    new = EvaluationRun.objects.filter(case=case).exclude(pk__in=before)
    answer = {"code": response.status_code}
    if new.exists():
        answer["run"] = kept(new.get())
    else:
        answer["said"] = response.content.decode()
    return answer


def by_api(client, case: Case, path: Path) -> dict:
    with path.open("rb") as log:
        response = client.post(
            f"/api/v1/cases/{case.number}/evaluations/",
            {"log": log, "category": "other"},
            format="multipart",
        )
    answer = {"code": response.status_code}
    if response.status_code == 201:
        answer["run"] = kept(EvaluationRun.objects.get(pk=response.json()["id"]))
    else:
        answer["said"] = response.content.decode()
    return answer


def main(for_page: list[Path], for_api: list[Path]) -> None:
    """Import each of `for_page` on the web page and each of `for_api` through the API.

    The two lists hold the same kinds of log from separate runs (other eval
    ids), so both ways import into one case.
    """
    call_command("migrate", verbosity=0)
    call_command("create_signing_identity", verbosity=0)
    call_command("seed_demo", verbosity=0)
    evaluator = User.objects.get(email=EVALUATOR)
    case = Case.objects.filter(status="testing").order_by("pk").first()
    if not can_record_evaluation(evaluator, case):
        manager = User.objects.get(email=MANAGER)
        assign_evaluator(case=case, actor=manager, evaluator=evaluator)
    web = signed_in(EVALUATOR)
    api = APIClient()
    _, raw = create_api_token(user=evaluator, name="pipeline", read_only=False)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    report = {}
    for page_log, api_log in zip(for_page, for_api, strict=True):
        report[page_log.name] = {
            "page": by_page(web, case, page_log),
            "api": by_api(api, case, api_log),
        }
    print(json.dumps(report))


if __name__ == "__main__":
    # Arguments: the page's logs, "--", the API's logs (in the same order of kinds).
    split = sys.argv.index("--")
    main([Path(a) for a in sys.argv[1:split]], [Path(a) for a in sys.argv[split + 1 :]])
