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
from findings.models import Category, FindingResponse, Severity
from review import demo
from review.services import (
    assign_evaluator,
    close_case,
    revoke_clearance,
    share_findings,
    submit_intake,
    withdraw,
)
from submissions.models import REQUIRED_DOCUMENT_KINDS
from submissions.services import review_document

COMPANIES = [("Acme AI", "acme"), ("Globex Labs", "globex")]
# Each company's liaison, who also manages its people and is its point of contact.
LIAISONS = {"acme": "Priya Raman", "globex": "Daniel Okafor"}
STAFF = [
    ("manager@caisi.example", "Morgan Reyes", Role.CASE_MANAGER),
    ("evaluator@caisi.example", "Eve Valdez", Role.EVALUATOR),
    ("official@caisi.example", "Olivia Brennan", Role.CLEARANCE_OFFICIAL),
    ("auditor@caisi.example", "Avery Lindqvist", Role.AUDITOR),
]
# (company slug, title, model name, the stage the demo case is brought to, and how many
# days ago it was opened and then took each step on the way: submitted, assigned, access
# verified, documentation accepted, findings shared, cleared, then what followed).
# Created oldest first, so the case numbers follow the dates.
CASES = [
    # A clearance revoked after release, and (below) a case CAISI closed.
    (
        "acme",
        "Atlas 1 review",
        "Atlas 1",
        "revoked",
        (480, 470, 465, 455, 440, 410, 380, 360, 90),
    ),
    # After clearance: a retired model, a suspended clearance, a model released with an
    # open incident and a monitoring report overdue.
    (
        "globex",
        "Helix Classic review",
        "Helix Classic",
        "retired",
        (420, 410, 404, 395, 380, 350, 320, 300, 35),
    ),
    (
        "globex",
        "Helix 0.9 review",
        "Helix 0.9",
        "clearance_suspended",
        (330, 322, 318, 305, 290, 260, 230, 215, 9, 8),
    ),
    ("acme", "Atlas 2 review", "Atlas 2", "released", (250, 243, 239, 228, 210, 160, 50, 38)),
    ("acme", "Atlas 2.5 review", "Atlas 2.5", "cleared", (200, 194, 190, 180, 165, 120, 40)),
    ("acme", "Atlas Code review", "Atlas Code", "findings", (150, 143, 139, 126, 95)),
    ("globex", "Helix 2 review", "Helix 2", "ready_for_clearance", (130, 124, 120, 110, 85, 30)),
    ("globex", "Helix Nano review", "Helix Nano", "closed", (120, 113, 110, 98)),
    ("globex", "Helix Edge review", "Helix Edge", "testing", (110, 104, 99, 88, 40)),
    ("globex", "Helix Lite review", "Helix Lite", "withdrawn", (95, 90)),
    ("acme", "Atlas Vision review", "Atlas Vision", "documentation", (75, 68, 64, 52)),
    ("globex", "Helix 1 review", "Helix 1", "access", (50, 41, 36)),
    ("acme", "Atlas 3 Mini review", "Atlas 3 Mini", "triage", (24, 9)),
    ("acme", "Atlas 3 pre-release review", "Atlas 3", "intake", (12,)),
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
        with demo.days_ago(CASES[0][4][0] + 10):  # everyone was there before the first case
            for name, slug in COMPANIES:
                org, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": name})
                organizations[slug] = org
                liaison = self._user(f"liaison@{slug}.example", LIAISONS[slug], "", password)
                Membership.objects.get_or_create(
                    user=liaison, defaults={"organization": org, "is_administrator": True}
                )
                if org.point_of_contact_id is None:
                    org.point_of_contact = liaison
                    org.save(update_fields=["point_of_contact"])
                liaisons[slug] = User.objects.get(pk=liaison.pk)  # fresh: role is cached
            staff = {role: self._user(email, name, role, password) for email, name, role in STAFF}

        created = 0
        for slug, title, model_name, stage, dated in CASES:
            if Case.objects.filter(organization=organizations[slug], title=title).exists():
                continue
            cast = {
                "liaison": liaisons[slug],
                "manager": staff[Role.CASE_MANAGER],
                "evaluator": staff[Role.EVALUATOR],
                "official": staff[Role.CLEARANCE_OFFICIAL],
            }
            opened, steps = dated[0], dated[1:]
            with demo.days_ago(opened):
                case = services.open_case(actor=liaisons[slug], title=title, model_name=model_name)
            # A stage with more to it than its steps (questions, documents, findings) has
            # a story of its own below; the others are walked through their steps.
            story = {
                "intake": self._intake,
                "triage": self._triage,
                "access": self._access,
                "documentation": self._documentation,
                "testing": self._testing,
                "findings": self._findings,
                "ready_for_clearance": self._ready_for_clearance,
                "withdrawn": self._withdrawn,
                "closed": self._closed,
                "revoked": self._revoked,
            }.get(stage)
            if story is not None:
                story(case, cast, steps, opened)
            elif stage in demo.AFTER_CLEARANCE:
                demo.after_clearance(case, stage, cast, dated=steps, since=opened)
            else:
                demo.advance(case, stage, cast, dated=steps, since=opened)
            created += 1

        self.stdout.write(f"Demo data ready ({created} new cases). Sign in with any of:")
        for email in [f"liaison@{slug}.example" for _, slug in COMPANIES] + [s[0] for s in STAFF]:
            self.stdout.write(f"  {email}")
        self.stdout.write(f"Password for every demo user: {password}")
        self._second_factor_how_to([*liaisons.values(), *staff.values()])

    # --- the stories beyond the steps: what the desk has to read and to do ---------------

    def _intake(self, case: Case, cast: dict, steps, opened) -> None:
        """A draft the company started and has not finished."""
        with demo.days_ago(opened - 6):
            services.update_intake(
                case=case, actor=cast["liaison"], data={"architecture": "Dense transformer"}
            )

    def _triage(self, case: Case, cast: dict, steps, opened) -> None:
        """Submitted past triage's service level, with a release date close by."""
        liaison = cast["liaison"]
        release = timezone.localdate() + dt.timedelta(days=45)
        with demo.days_ago(steps[0] + 1):
            demo.fill_intake(case, liaison, planned_release_date=release)
        with demo.days_ago(steps[0]):
            submit_intake(case=case, actor=liaison)

    def _access(self, case: Case, cast: dict, steps, opened) -> None:
        """Access shared by the company a few days ago, waiting on the case manager."""
        case = demo.advance(case, "access", cast, dated=steps, since=opened)
        with demo.days_ago(steps[-1] - 1):
            services.post_message(
                case=case,
                actor=cast["manager"],
                body="Welcome: I am your case manager. Please share model access when ready.",
            )
        with demo.days_ago(3):
            demo.grant_access(case, cast["liaison"])

    def _documentation(self, case: Case, cast: dict, steps, opened) -> None:
        """Part of the package accepted, one document sent back, one waiting for review."""
        liaison, manager = cast["liaison"], cast["manager"]
        case = demo.advance(case, "documentation", cast, dated=steps, since=opened)
        self._thread(case, cast, days=steps[-1] - 2)
        kinds = list(REQUIRED_DOCUMENT_KINDS)
        with demo.days_ago(45):
            first = [demo.upload_document(case, liaison, kind) for kind in kinds[:2]]
        with demo.days_ago(40):
            for document in first:
                review_document(document=document, actor=manager, accept=True)
        with demo.days_ago(30):
            document = demo.upload_document(case, liaison, kinds[2])
        with demo.days_ago(27):
            review_document(
                document=document,
                actor=manager,
                accept=False,
                comment="Please add the bias audit's results by language, as in section 4.",
            )
        with demo.days_ago(6):
            demo.upload_document(case, liaison, kinds[3])

    def _testing(self, case: Case, cast: dict, steps, opened) -> None:
        """In testing with no run recorded yet, a finding in draft from the first probing,
        one question answered and two waiting on the company."""
        manager, liaison = cast["manager"], cast["liaison"]
        case = demo.advance(case, "testing", cast, dated=steps, since=opened)
        self._thread(case, cast, days=steps[-1] - 1)
        with demo.days_ago(38):
            assign_evaluator(case=case, actor=manager, evaluator=cast["evaluator"])
        answered = self._ask(case, cast, "Which languages does the launch cover?", days=30, due=10)
        with demo.days_ago(24):
            desk.answer_clarification(
                request=answered,
                actor=liaison,
                answer="English, Spanish and German at launch; French and Japanese in Q3.",
            )
        self._ask(
            case,
            cast,
            "Which system prompt will the hosted product use at launch?",
            days=16,
            due=14,
        )
        self._ask(
            case, cast, "Is tool use (code execution) enabled for all tenants?", days=4, due=9
        )
        with demo.days_ago(2):
            desk.draft_finding(
                case=case,
                actor=cast["evaluator"],
                severity=Severity.LOW,
                category=Category.HALLUCINATION,
                title="Invented citations in legal answers",
                description="In exploratory probing, 4 of 50 legal questions cited a case "
                "that does not exist.",
            )

    def _findings(self, case: Case, cast: dict, steps, opened) -> None:
        """Findings shared ten days ago: one answered and awaiting CAISI, one due soon."""
        manager, evaluator, liaison = cast["manager"], cast["evaluator"], cast["liaison"]
        case = demo.advance(case, "testing", cast, dated=steps, since=opened)
        self._thread(case, cast, days=steps[-1] - 1)
        question = self._ask(case, cast, "Is the code interpreter sandboxed?", days=80, due=10)
        with demo.days_ago(76):
            desk.answer_clarification(
                request=question, actor=liaison, answer="Yes: gVisor, no network, 30 s limit."
            )
        with demo.days_ago(60):
            assign_evaluator(case=case, actor=manager, evaluator=evaluator)
            high = demo.record_evaluation(case, evaluator)
        with demo.days_ago(55):
            medium = desk.draft_finding(
                case=case,
                actor=evaluator,
                evaluation=high.evaluation,
                severity=Severity.MEDIUM,
                category=Category.ADVERSARIAL_ROBUSTNESS,
                title="Refusals weaken in long conversations",
                description="After 30 turns the refusal rate on the held-out set fell from "
                "98% to 91%.",
            )
        with demo.days_ago(10):
            share_findings(case=case, actor=manager)
        with demo.days_ago(3):
            medium.refresh_from_db()
            desk.respond_to_finding(
                finding=medium,
                actor=liaison,
                kind=FindingResponse.Kind.MITIGATED,
                mitigation="The conversation is summarised and the policy restated every 20 turns.",
            )

    def _ready_for_clearance(self, case: Case, cast: dict, steps, opened) -> None:
        """Findings answered and accepted: the clearance gate is clear for the official."""
        case = demo.advance(case, "findings", cast, dated=steps, since=opened)
        with demo.days_ago(12):
            demo.resolve_findings(case, cast["manager"])

    def _revoked(self, case: Case, cast: dict, steps, opened) -> None:
        """Cleared, released, then revoked when the company changed the model in service."""
        case = demo.advance(case, "cleared", cast, dated=steps[:6], since=opened)
        with demo.days_ago(steps[6]):
            case = demo.release(case, cast["liaison"])
        with demo.days_ago(steps[7]):
            revoke_clearance(
                case=case,
                actor=cast["official"],
                reason="The model in service was changed without review: the safety "
                "classifier was removed from the public API.",
            )

    def _closed(self, case: Case, cast: dict, steps, opened) -> None:
        """Closed by CAISI: the documentation never came and the company stopped answering."""
        case = demo.advance(case, "documentation", cast, dated=steps, since=opened)
        with demo.days_ago(70):
            close_case(
                case=case,
                actor=cast["manager"],
                reason="No documentation in 4 weeks and no answer to two reminders.",
            )

    def _withdrawn(self, case: Case, cast: dict, steps, opened) -> None:
        case = demo.advance(case, "triage", cast, dated=steps, since=opened)
        with demo.days_ago(62):
            withdraw(case=case, actor=cast["liaison"], reason="Release plans changed.")

    def _thread(self, case: Case, cast: dict, *, days: float) -> None:
        """The case manager's word to the company, and a note for CAISI only."""
        with demo.days_ago(days):
            services.post_message(
                case=case,
                actor=cast["manager"],
                body="Thank you for the package. We will start with the jailbreak suite.",
            )
        with demo.days_ago(days - 0.1):
            services.post_message(
                case=case,
                actor=cast["manager"],
                body="Internal: schedule the bias audit after the holiday freeze.",
                internal=True,
            )

    def _ask(self, case: Case, cast: dict, question: str, *, days: float, due: int):
        """Ask the company a question `days` ago, due `due` days after it was asked."""
        with demo.days_ago(days):
            return desk.ask_clarification(
                case=case,
                actor=cast["manager"],
                question=question,
                due_date=timezone.localdate() + dt.timedelta(days=due),
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
