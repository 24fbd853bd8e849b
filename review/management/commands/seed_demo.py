import base64
import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.demo import demo_authenticator
from accounts.models import Membership, Organization, Role, User
from cases import services
from cases.models import Case
from findings import services as desk
from review import demo
from review.services import withdraw

COMPANIES = [("Acme AI", "acme"), ("Globex Labs", "globex")]
STAFF = [
    ("manager@caisi.example", "Morgan Case", Role.CASE_MANAGER),
    ("evaluator@caisi.example", "Eve Valdez", Role.EVALUATOR),
    ("official@caisi.example", "Olivia Clearwater", Role.CLEARANCE_OFFICIAL),
    ("auditor@caisi.example", "Avery Audit", Role.AUDITOR),
]
# (company slug, title, model name, status the demo case is brought to)
CASES = [
    ("acme", "Atlas 3 pre-release review", "Atlas 3", "intake"),
    ("acme", "Atlas 3 Mini review", "Atlas 3 Mini", "triage"),
    ("acme", "Atlas Vision review", "Atlas Vision", "documentation"),
    ("acme", "Atlas Code review", "Atlas Code", "findings"),
    ("acme", "Atlas 2.5 review", "Atlas 2.5", "cleared"),
    # After clearance: released with an open incident and a monitoring report due,
    # a suspended clearance, a retired model.
    ("acme", "Atlas 2 review", "Atlas 2", "released"),
    ("globex", "Helix 0.9 review", "Helix 0.9", "clearance_suspended"),
    ("globex", "Helix Classic review", "Helix Classic", "retired"),
    ("globex", "Helix 1 review", "Helix 1", "access"),
    ("globex", "Helix Edge review", "Helix Edge", "testing"),
    ("globex", "Helix Lite review", "Helix Lite", "withdrawn"),
]


class Command(BaseCommand):
    help = "Create the demo companies, users and cases (running it again changes nothing)."

    @transaction.atomic
    def handle(self, *args, **options):
        if not settings.DEBUG:
            # The demo's people share a published password: never on a real portal.
            raise CommandError(
                "seed_demo runs only with DEBUG=1 (the embedded demo): its accounts share "
                "a published password and would open a real portal to anyone."
            )
        password = settings.DEMO_PASSWORD
        organizations = {}
        liaisons = {}
        for name, slug in COMPANIES:
            org, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": name})
            organizations[slug] = org
            liaison = self._user(f"liaison@{slug}.example", f"{name} liaison", "", password)
            # The demo liaison also manages the company's people and is its point of contact.
            Membership.objects.get_or_create(
                user=liaison, defaults={"organization": org, "is_administrator": True}
            )
            if org.point_of_contact_id is None:
                org.point_of_contact = liaison
                org.save(update_fields=["point_of_contact"])
            liaisons[slug] = User.objects.get(pk=liaison.pk)  # fresh: role is cached
        staff = {role: self._user(email, name, role, password) for email, name, role in STAFF}

        created = 0
        for slug, title, model_name, status in CASES:
            if Case.objects.filter(organization=organizations[slug], title=title).exists():
                continue
            cast = {
                "liaison": liaisons[slug],
                "manager": staff[Role.CASE_MANAGER],
                "evaluator": staff[Role.EVALUATOR],
                "official": staff[Role.CLEARANCE_OFFICIAL],
            }
            case = services.open_case(actor=liaisons[slug], title=title, model_name=model_name)
            if status == "withdrawn":
                case = demo.advance(case, "triage", cast)
                withdraw(case=case, actor=liaisons[slug], reason="Release plans changed.")
            elif status in demo.AFTER_CLEARANCE:
                case = demo.after_clearance(case, status, cast)
            elif status == "intake":
                services.update_intake(
                    case=case, actor=liaisons[slug], data={"architecture": "Dense transformer"}
                )
            else:
                case = demo.advance(case, status, cast)
            self._conversation(case, cast)
            created += 1

        self.stdout.write(f"Demo data ready ({created} new cases). Sign in with any of:")
        for email in [f"liaison@{slug}.example" for _, slug in COMPANIES] + [s[0] for s in STAFF]:
            self.stdout.write(f"  {email}")
        self.stdout.write(f"Password for every demo user: {password}")
        self._second_factor_how_to([*liaisons.values(), *staff.values()])

    def _conversation(self, case: Case, cast: dict) -> None:
        """Give the desk something to read: a thread, and a question waiting on the company."""
        if case.status in ("documentation", "testing"):
            services.post_message(
                case=case,
                actor=cast["manager"],
                body="Thank you for the package. We will start with the jailbreak suite.",
            )
            services.post_message(
                case=case,
                actor=cast["manager"],
                body="Internal: schedule the bias audit after the holiday freeze.",
                internal=True,
            )
        if case.status == "testing":
            desk.ask_clarification(
                case=case,
                actor=cast["manager"],
                question="Which system prompt will the hosted product use at launch?",
                due_date=timezone.localdate() + dt.timedelta(days=10),
            )

    def _second_factor_how_to(self, staff) -> None:
        """Give each demo user an authenticator with a random key, and print the keys."""

        self.stdout.write(
            "Everyone also needs a code after the password (two-step verification). "
            "Add a key to any authenticator app (time-based, 6 digits), or print the "
            "current code with `python manage.py demo_code EMAIL`:"
        )
        for user in staff:
            device = demo_authenticator(user=user)
            key = base64.b32encode(device.bin_key).decode()
            self.stdout.write(f"  {user.email}: key {key}")
        self.stdout.write(
            "Lost the app? Each user can make single-use recovery codes under "
            "Settings → Security once signed in."
        )

    def _user(self, email, full_name, staff_role, password) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=password, full_name=full_name, staff_role=staff_role
            )
        return user
