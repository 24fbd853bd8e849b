"""One scenario of `make bench` for locust: a closed loop of users, no think time.

The driver (bench/run.py) chooses the scenario and hands over what it needs in
the environment: BENCH_SCENARIO, BENCH_TOKEN (API), BENCH_SESSION (pages) and
BENCH_POOL (a JSON file of case numbers, their status ETags and API tokens).
"""

import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, constant, task

SCENARIO = os.environ.get("BENCH_SCENARIO", "baseline")
TOKEN = os.environ.get("BENCH_TOKEN", "")
SESSION = os.environ.get("BENCH_SESSION", "")
POOL = (
    json.loads(Path(os.environ["BENCH_POOL"]).read_text()) if os.environ.get("BENCH_POOL") else {}
)
# What the TLS proxy in front of the compose file's web service adds to every request.
PROXY = {"X-Forwarded-Proto": "https"}


def request_for(scenario: str) -> tuple[str, dict[str, str], int]:
    """Return the path, headers and expected status of one request of the scenario."""
    token = random.choice(POOL["tokens"]) if POOL else TOKEN
    api = {"Authorization": f"Bearer {token}"}
    page = {"Cookie": f"sessionid={SESSION}"}
    number = random.choice(POOL["numbers"]) if POOL else ""
    if scenario == "baseline":
        return "/bench/baseline/", {}, 200
    if scenario == "status":
        return f"/api/v1/cases/{number}/status/", api, 200
    if scenario == "status_304":
        return (
            f"/api/v1/cases/{number}/status/",
            {**api, "If-None-Match": POOL["etags"][number]},
            304,
        )
    if scenario == "case_list":
        return "/api/v1/cases/", api, 200
    if scenario == "case_page":
        return f"/cases/{number}/", page, 200
    if scenario == "triage_queue":
        return "/desk/", page, 200
    if scenario == "web_case_list":
        return "/", page, 200
    if scenario == "desk_dashboard":
        return "/desk/dashboard/", page, 200
    raise ValueError(f"unknown scenario {scenario}")


class Client(FastHttpUser):
    wait_time = constant(0)

    @task
    def request(self):
        path, headers, expected = request_for(SCENARIO)
        with self.client.get(
            path,
            headers={**PROXY, **headers},
            name=SCENARIO,
            catch_response=True,
            allow_redirects=False,
        ) as r:
            if r.status_code != expected:
                r.failure(f"status {r.status_code}, expected {expected}")
