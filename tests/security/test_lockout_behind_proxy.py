"""The documented deployment behind its TLS proxy: the lockout and the verification budget.

docker-compose.yml puts the portal behind a proxy (USE_X_FORWARDED_PROTO=1), so
every connection comes from the proxy's address. Before the fix it left
TRUSTED_PROXY_COUNT at 0: everyone shared that address, five anonymous wrong
passwords locked any account, and 30 lookups a minute closed /verify/ for all.

These tests take TRUSTED_PROXY_COUNT from the compose file and send real HTTP
requests to a listener on 127.0.0.1, which plays the proxy: each request carries
the X-Forwarded-For entry a proxy appends for its client.
"""

import secrets
from pathlib import Path

import pytest
import requests
import yaml
from django.core.cache import cache

PASSWORD = "demo-pass-2026"
COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
ATTACKER = "203.0.113.5"
OWNER = "198.51.100.7"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def deployed_environment() -> dict[str, str]:
    return {name: str(value) for name, value in compose()["x-portal"]["environment"].items()}


@pytest.fixture
def as_deployed(settings):
    """The compose file's proxy setting, with the lockout and budget at their defaults."""
    settings.TRUSTED_PROXY_COUNT = int(deployed_environment().get("TRUSTED_PROXY_COUNT", "0"))
    settings.AXES_FAILURE_LIMIT = 5
    settings.VERIFY_RATE_LIMIT_PER_MINUTE = 30
    cache.clear()
    yield
    cache.clear()


class ThroughTheProxy:
    """A browser at `address`, reaching the portal through the proxy in front of it."""

    def __init__(self, base_url: str, address: str):
        self.base_url = base_url
        self.http = requests.Session()
        self.http.headers["X-Forwarded-For"] = address

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base_url + path, allow_redirects=False, timeout=30)

    def sign_in(self, email: str, password: str) -> requests.Response:
        self.get("/accounts/login/")
        return self.http.post(
            self.base_url + "/accounts/login/",
            data={
                "username": email,
                "password": password,
                "csrfmiddlewaretoken": self.http.cookies["csrftoken"],
            },
            allow_redirects=False,
            timeout=30,
        )


def test_the_compose_file_names_its_proxy_and_keeps_the_web_port_behind_it():
    environment = deployed_environment()
    assert environment["USE_X_FORWARDED_PROTO"] == "1"
    assert environment["TRUSTED_PROXY_COUNT"] == "1"
    # Reachable only from the host (where the proxy runs): a client that could
    # reach gunicorn directly could write any X-Forwarded-For it liked.
    for published in compose()["services"]["web"].get("ports", []):
        assert str(published).startswith("127.0.0.1:"), published


@pytest.mark.parametrize("who", ["liaison", "manager"])
def test_five_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(
    live_server, cast, as_deployed, who
):
    victim = getattr(cast, who)
    attacker = ThroughTheProxy(live_server.url, ATTACKER)
    tries = [attacker.sign_in(victim.email, f"wrong-{n}").status_code for n in range(5)]
    assert tries == [200, 200, 200, 200, 429]  # the fifth failure locks the attacker out
    assert attacker.sign_in(victim.email, PASSWORD).status_code == 429

    owner = ThroughTheProxy(live_server.url, OWNER)
    signed_in = owner.sign_in(victim.email, PASSWORD)
    assert signed_in.status_code == 302
    assert "/accounts/login/" not in signed_in.headers["Location"]


def test_one_client_spending_the_verification_budget_leaves_others_theirs(
    live_server, db, as_deployed
):
    attacker = ThroughTheProxy(live_server.url, ATTACKER)
    for _ in range(30):
        assert attacker.get(f"/verify/{secrets.token_hex(16)}/").status_code == 404
    assert attacker.get(f"/verify/{secrets.token_hex(16)}/").status_code == 429

    other = ThroughTheProxy(live_server.url, OWNER)
    assert other.get(f"/verify/{secrets.token_hex(16)}/").status_code == 404
