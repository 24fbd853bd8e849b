"""Run by tests/embedded/test_embedded_default.py in a process of its own.

The portal as `make run` serves it: SQLite, no broker, tasks in-process. Seed
the demo, then have every demo user GET every page that takes no parameter
or only a case number, for every case; and sweep the reminders. Print one
JSON object with what answered 5xx and what the sweeps sent.
"""

import datetime as dt
import json
import re

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from accounts import session_keys  # noqa: E402
from accounts.models import User  # noqa: E402
from cases.models import Case  # noqa: E402
from deadlines import services as deadlines  # noqa: E402
from review.management.commands.seed_demo import COMPANIES, STAFF  # noqa: E402
from tests.security.urlwalk import every_route  # noqa: E402

# Everyone seed_demo signs up: a liaison of each company and each CAISI role.
DEMO_USERS = [f"liaison@{slug}.example" for _, slug in COMPANIES] + [email for email, _, _ in STAFF]
# Routes with no parameter, or the case number alone (`<case:number>` / `(?P<number>…)`).
NUMBER = re.compile(r"<case:number>|\(\?P<number>[^)]*\)")
ANY_OTHER_PARAMETER = re.compile(r"<[^>]+>|\(\?P<")


def pages() -> list[str]:
    found = []
    for route, _name in every_route():
        route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
        if route.startswith(("admin/", "static/")) or ANY_OTHER_PARAMETER.search(
            NUMBER.sub("{number}", route)
        ):
            continue
        found.append("/" + NUMBER.sub("{number}", route))
    return sorted(set(found))


def signed_in(email: str) -> Client:
    user = User.objects.get(email=email)
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:  # the second factor, as the verification page records it
        session = client.session
        session[session_keys.SECOND_FACTOR_DEVICE] = device.persistent_id
        if user.is_caisi_staff:  # staff also hold a security key (STAFF_REQUIRE_WEBAUTHN)
            session[session_keys.SECURITY_KEY_ENROLLED] = True
        session.save()
    return client


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("create_signing_identity", verbosity=0)
    call_command("seed_demo", verbosity=0)
    numbers = list(Case.objects.values_list("number", flat=True))
    errors, answered = [], 0
    for email in DEMO_USERS:
        client = signed_in(email)
        for page in pages():
            for number in numbers if "{number}" in page else [None]:
                url = page.format(number=number)
                status = client.get(url).status_code
                answered += 1
                if status >= 500:
                    errors.append(f"{email} GET {url}: {status}")
    later = timezone.now() + dt.timedelta(days=400)
    sent = [deadlines.sweep_reminders(now=later), deadlines.sweep_reminders(now=later)]
    print(json.dumps({"answered": answered, "errors": errors, "swept": sent}))


if __name__ == "__main__":
    main()
