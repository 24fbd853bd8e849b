"""No select on any page offers Django's bare "---------" (or a lone dash): each says what
to choose, or has no empty choice where a value is required and has a default."""

import re

import pytest

from review.lifecycle import Action
from tests.security.conftest import ROLES
from tests.security.test_every_url import body_of, is_case_scoped, routes, url_for

# An empty choice whose words are only dashes.
PLACEHOLDER = re.compile(rb"<option[^>]*>\s*(?:-+|&mdash;|" + "\u2014".encode() + rb")\s*</option>")


def _pages(world):
    """Every web page of the portal, and every case page and action form of each Acme case."""
    urls = {url_for(route, world) for route, _ in routes() if not route.startswith("api/")}
    case_pages = [
        r
        for r, _ in routes()
        if is_case_scoped(r)
        and not r.startswith("api/")
        and "<" not in r.replace("<case:number>", "").replace("<str:number>", "")
    ]
    for case in world.acme.values():
        urls |= {url_for(route, world, number=case.number) for route in case_pages}
        urls |= {f"/cases/{case.number}/actions/{action}/" for action in Action.values}
    return sorted(urls)


@pytest.mark.django_db
def test_no_page_shows_a_bare_dashes_placeholder_to_any_role(world, clients):
    found = []
    for url in _pages(world):
        for role in ROLES:
            response = clients[role].get(url)
            if response.status_code == 200 and PLACEHOLDER.search(body_of(response)):
                found.append(f"{url} as {role}")
    assert not found, "\n".join(found)
