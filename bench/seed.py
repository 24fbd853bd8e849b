"""Fill a PostgreSQL database with years of realistic review cases, quickly.

    python -m bench.seed --cases 100000            # into caisi_bench (created if missing)
    python -m bench.seed --cases 100000 --reuse    # keep a database already seeded so

Rows go in with COPY, in batches of cases: companies and their liaisons, CAISI
staff, cases over every status, each case's timeline (about ten events a case,
hash-chained exactly as `record_event` chains them, so `verify_chain` holds),
model versions, documents' metadata, evaluation runs, findings and deadlines
whose next reminder is computed by the portal's own schedule.

The database is the bench's own (BENCH_DATABASE_URL, by default
postgres://postgres@127.0.0.1:5432/caisi_bench); the seeder refuses the name of
a test database.
"""

import argparse
import datetime as dt
import io
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/caisi_bench"
EVENTS_PER_CASE = 10  # on average; the timeline of a cleared case is longer
CASES_PER_COMPANY = 200
BATCH = 2000

# How the cases spread over the statuses: half open, half finished.
STATUS_WEIGHTS = {
    "intake": 10,
    "triage": 8,
    "access": 8,
    "documentation": 8,
    "testing": 10,
    "findings": 6,
    "cleared": 30,
    "revoked": 2,
    "withdrawn": 8,
    "closed": 10,
}
PATH = ["intake", "triage", "access", "documentation", "testing", "findings", "cleared"]
OPEN = set(PATH[:-1])
TRANSITION_VERB = {
    "triage": "submit_intake",
    "access": "assign_case_manager",
    "documentation": "verify_access",
    "testing": "accept_documentation",
    "findings": "share_findings",
    "cleared": "issue_clearance",
}
DOCUMENT_KINDS = ["model_card", "safety_report", "deployment_plan", "risk_mitigation"]
SEVERITIES = ["critical", "high", "medium", "low", "informational"]
CATEGORIES = [
    "adversarial_robustness",
    "hallucination",
    "demographic_bias",
    "security_vulnerability",
    "dangerous_capability",
]
ARCHITECTURES = ["decoder-only transformer", "mixture of experts", "encoder-decoder", "state space"]


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisi_portal.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()


# --- COPY ---------------------------------------------------------------------------


def _cell(value) -> str:
    kind = type(value)
    if kind is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            return value.replace("\r", "")
        return value
    if kind is int:
        return str(value)
    if value is None:
        return r"\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is dict or kind is list:
        return _cell(json.dumps(value, separators=(",", ":")))
    return _cell(value.isoformat() if hasattr(value, "isoformat") else str(value))


class Table:
    """Rows of one table, gathered in memory and sent with one COPY per batch."""

    def __init__(self, name: str, columns: list[str]):
        self.name = name
        self.columns = columns
        self.rows: list[str] = []
        self.count = 0
        self.next_id = 1

    def take_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def add(self, **row) -> int:
        if "id" in self.columns and "id" not in row:
            row["id"] = self.take_id()
        self.rows.append("\t".join(_cell(row[c]) for c in self.columns))
        self.count += 1
        return row.get("id")

    def flush(self, cursor) -> None:
        if not self.rows:
            return
        buffer = io.StringIO("\n".join(self.rows) + "\n")
        cursor.copy_expert(f"COPY {self.name} ({', '.join(self.columns)}) FROM STDIN", buffer)
        self.rows.clear()


def make_tables() -> dict[str, Table]:
    spec = {
        "organization": ("accounts_organization", "id name slug created_at"),
        "user": (
            "accounts_user",
            "id password last_login is_superuser is_staff is_active date_joined email "
            "full_name staff_role is_service_account",
        ),
        "membership": (
            "accounts_membership",
            "id role created_at user_id organization_id is_administrator",
        ),
        "case": (
            "cases_case",
            "id number title status model_name description architecture parameter_count "
            "training_compute training_data_description intended_uses modality release_type "
            "planned_release_date created_at updated_at company_updated_at submitted_at "
            "status_changed_at case_manager_id "
            "created_by_id organization_id deployment_status",
        ),
        "evaluators": ("cases_case_evaluators", "id case_id user_id"),
        "event": (
            "cases_caseevent",
            "id seq verb from_status to_status details internal created_at prev_hash hash "
            "actor_id case_id",
        ),
        "version": (
            "submissions_modelversion",
            "id label vcs_reference artifact_sha256 container_image changelog submitted_at "
            "created_at case_id created_by_id packaging",
        ),
        "document": (
            "submissions_document",
            "id kind title version_number file original_name content_type size sha256 state "
            "review_comment uploaded_at reviewed_at case_id reviewed_by_id uploaded_by_id "
            "card_missing_sections card_problems card_self_reported model_version_id report_type",
        ),
        "evaluation": (
            "findings_evaluationrun",
            "id category title summary metrics status started_at completed_at case_id "
            "created_by_id model_version_id inspect_dataset inspect_eval_id inspect_log "
            "inspect_log_sha256 inspect_model inspect_revision inspect_run_id "
            "inspect_sample_count inspect_scores inspect_status inspect_task inspect_task_version "
            "inspect_error inspect_traceback metric_notes",
        ),
        "finding": (
            "findings_finding",
            "id sample_ids severity category title description state created_at shared_at "
            "case_id created_by_id evaluation_id model_version_id resolution resolved_at",
        ),
        "deadline": (
            "cases_deadline",
            "id kind subject base_due_at due_at next_reminder_at satisfied_at created_at case_id",
        ),
    }
    return {key: Table(name, columns.split()) for key, (name, columns) in spec.items()}


# --- the hash chain -------------------------------------------------------------------


def event_hasher():
    """Return a function that hashes an event exactly as CaseEvent.compute_hash does."""
    from cases.models import CaseEvent

    class PlainEvent:
        # The model's own methods, so the seeded chain cannot drift from the real one.
        content = CaseEvent.content
        compute_hash = CaseEvent.compute_hash

    def compute(case_number: str, **fields) -> str:
        event = PlainEvent()
        event.__dict__.update(fields)
        return event.compute_hash(case_number)

    return compute


# --- the cast ---------------------------------------------------------------------------


@dataclass
class Cast:
    companies: list[tuple[int, list[int]]] = field(default_factory=list)  # (org id, liaisons)
    managers: list[int] = field(default_factory=list)
    evaluators: list[int] = field(default_factory=list)
    officials: list[int] = field(default_factory=list)
    auditors: list[int] = field(default_factory=list)


STAFF = {"case_manager": 12, "evaluator": 24, "clearance_official": 3, "auditor": 2}


def seed_cast(tables, *, companies: int, run: str, now: dt.datetime) -> Cast:
    cast = Cast()
    users = tables["user"]

    def user(email: str, role: str = "") -> int:
        return users.add(
            password="!" + run,  # unusable: bench people sign in through a made session
            last_login=None,
            is_superuser=False,
            is_staff=bool(role),
            is_active=True,
            date_joined=now,
            email=email,
            full_name=email.split("@")[0].replace(".", " ").title(),
            staff_role=role,
            is_service_account=False,
        )

    for role, count in STAFF.items():
        people = [
            user(f"{role.replace('_', '.')}{n}.{run}@caisi.example", role) for n in range(count)
        ]
        {
            "case_manager": cast.managers,
            "evaluator": cast.evaluators,
            "clearance_official": cast.officials,
            "auditor": cast.auditors,
        }[role].extend(people)
    for n in range(companies):
        org = tables["organization"].add(
            name=f"Company {n} {run}", slug=f"company-{n}-{run}", created_at=now
        )
        liaisons = []
        for k in range(2):
            liaison = user(f"liaison{k}.company{n}.{run}@example.com")
            tables["membership"].add(
                role="liaison",
                created_at=now,
                user_id=liaison,
                organization_id=org,
                is_administrator=k == 0,
            )
            liaisons.append(liaison)
        cast.companies.append((org, liaisons))
    return cast


# --- one case -------------------------------------------------------------------------------


class CaseWriter:
    """Write one case with its timeline and records, in a plausible order of events."""

    def __init__(self, tables, cast: Cast, rng: random.Random, now: dt.datetime, hasher):
        self.t = tables
        self.cast = cast
        self.rng = rng
        self.now = now
        self.hash = hasher
        self.numbers: dict[int, int] = {}

    def number(self, year: int) -> str:
        self.numbers[year] = self.numbers.get(year, 0) + 1
        return f"CAISI-{year}-{self.numbers[year]:04d}"

    def write(self, index: int, status: str) -> None:
        rng, t = self.rng, self.t
        org, liaisons = self.cast.companies[index % len(self.cast.companies)]
        liaison = rng.choice(liaisons)
        manager = rng.choice(self.cast.managers)
        evaluator = rng.choice(self.cast.evaluators)
        official = rng.choice(self.cast.officials)
        # Open cases are recent; finished ones spread over three years.
        age_days = rng.uniform(2, 120) if status in OPEN else rng.uniform(60, 3 * 365)
        opened = self.now - dt.timedelta(days=age_days, seconds=rng.randrange(86400))
        reached = PATH.index(status) if status in PATH else rng.randrange(len(PATH) - 1)
        if status == "revoked":
            reached = PATH.index("cleared")
        span = (self.now - opened) * rng.uniform(0.5, 0.95)
        step = span / (reached + 2)
        case_id = t["case"].take_id()
        number = self.number(opened.year)
        events: list[tuple] = []  # (actor, verb, from, to, details, internal, at)
        clock = [opened]

        def later(fraction: float = 0.3) -> dt.datetime:
            clock[0] += step * rng.uniform(0.05, fraction)
            return clock[0]

        def event(actor, verb, details=None, from_status="", to_status="", internal=False):
            events.append((actor, verb, from_status, to_status, details or {}, internal, later()))

        title = f"Model {index} review"
        model_name = f"model-{index}"
        event(liaison, "case_opened", {"title": title, "model_name": model_name})
        event(liaison, "intake_updated", {"fields": ["architecture", "intended_uses"]})
        version_id = None
        status_changed_at = opened
        for position in range(1, reached + 1):
            target = PATH[position]
            if target == "access":
                event(manager, "assign_case_manager", {"case_manager": manager}, "triage", "access")
            else:
                actor = {"triage": liaison, "cleared": official}.get(target, manager)
                event(actor, TRANSITION_VERB[target], {}, PATH[position - 1], target)
            status_changed_at = clock[0]
            if target == "access":
                version_id = self.version(case_id, liaison, index, later())
                event(liaison, "version_added", {"version": f"v1.{index % 10}"})
                event(liaison, "access_granted", {"method": "api_endpoint"})
            elif target == "documentation":
                for kind in DOCUMENT_KINDS:
                    self.document(case_id, kind, liaison, manager, version_id, later(0.1), status)
                    event(liaison, "document_uploaded", {"kind": kind})
            elif target == "testing":
                t["evaluators"].add(case_id=case_id, user_id=evaluator)
                event(manager, "evaluator_assigned", {"evaluator": evaluator}, internal=True)
                for _ in range(2):
                    run = self.evaluation(case_id, evaluator, version_id, later(0.1))
                    event(evaluator, "evaluation_recorded", {"run": run}, internal=True)
                    self.finding(case_id, evaluator, version_id, run, later(0.1), status)
            elif target == "findings":
                event(liaison, "finding_answered", {"kind": "mitigated"})
        if status in ("withdrawn", "closed"):
            from_status = PATH[reached]
            verb = "withdraw" if status == "withdrawn" else "close_case"
            actor = liaison if status == "withdrawn" else manager
            event(actor, verb, {"reason": "No longer planned."}, from_status, status)
            status_changed_at = clock[0]
        if status == "revoked":
            event(official, "revoke_clearance", {"reason": "Scope exceeded."}, "cleared", "revoked")
            status_changed_at = clock[0]
        while len(events) < EVENTS_PER_CASE - 5 + rng.randrange(4):
            internal = rng.random() < 0.3
            verb = "internal_note_added" if internal else "message_posted"
            event(manager, verb, {"length": rng.randrange(40, 900)}, internal=internal)

        prev = ""
        for seq, (actor, verb, from_s, to_s, details, internal, at) in enumerate(events, 1):
            digest = self.hash(
                number,
                seq=seq,
                actor_id=actor,
                verb=verb,
                from_status=from_s,
                to_status=to_s,
                details=details,
                internal=internal,
                created_at=at,
                prev_hash=prev,
            )
            t["event"].add(
                seq=seq,
                verb=verb,
                from_status=from_s,
                to_status=to_s,
                details=details,
                internal=internal,
                created_at=at,
                prev_hash=prev,
                hash=digest,
                actor_id=actor,
                case_id=case_id,
            )
            prev = digest

        planned = (opened + dt.timedelta(days=rng.randrange(30, 300))).date()
        t["case"].add(
            id=case_id,
            number=number,
            title=title,
            status=status,
            model_name=model_name,
            description="A general-purpose assistant model.",
            architecture=rng.choice(ARCHITECTURES),
            parameter_count=rng.choice([7, 13, 34, 70, 180, 400]) * 10**9,
            training_compute=f"{rng.uniform(1, 9):.1f}e{rng.randrange(23, 26)} FLOP",
            training_data_description="Licensed, public web and synthetic data.",
            intended_uses="Chat assistant; coding help.",
            modality="text",
            release_type=rng.choice(["restricted_api", "hosted", "open_weights"]),
            planned_release_date=planned,
            created_at=opened,
            updated_at=events[-1][6],
            company_updated_at=next(e[6] for e in reversed(events) if not e[5]),
            submitted_at=next((e[6] for e in events if e[1] == "submit_intake"), None),
            status_changed_at=status_changed_at,
            case_manager_id=manager if reached >= 2 else None,
            created_by_id=liaison,
            organization_id=org,
            deployment_status="not_released",
        )
        self.deadlines(case_id, status, status_changed_at, planned, opened)

    def version(self, case_id, liaison, index, at) -> int:
        return self.t["version"].add(
            label=f"v1.{index % 10}",
            vcs_reference=f"{self.rng.getrandbits(160):040x}",
            artifact_sha256=f"{self.rng.getrandbits(256):064x}",
            container_image="",
            changelog="",
            submitted_at=at,
            created_at=at,
            case_id=case_id,
            created_by_id=liaison,
            packaging="weights",
        )

    def document(self, case_id, kind, liaison, manager, version_id, at, status) -> None:
        accepted = status not in ("documentation",) or self.rng.random() < 0.5
        self.t["document"].add(
            kind=kind,
            title="",
            version_number=1,
            file=f"documents/{case_id}-{kind}.pdf",
            original_name=f"{kind}.pdf",
            content_type="application/pdf",
            size=self.rng.randrange(50_000, 5_000_000),
            sha256=f"{self.rng.getrandbits(256):064x}",
            state="accepted" if accepted else "submitted",
            review_comment="",
            uploaded_at=at,
            reviewed_at=at if accepted else None,
            case_id=case_id,
            reviewed_by_id=manager if accepted else None,
            uploaded_by_id=liaison,
            card_missing_sections=[],
            card_problems=[],
            card_self_reported=[],
            model_version_id=version_id,
            report_type="red_teaming" if kind == "safety_report" else "",
        )

    def evaluation(self, case_id, evaluator, version_id, at) -> int:
        category = self.rng.choice(CATEGORIES)
        return self.t["evaluation"].add(
            category=category,
            title=f"{category.replace('_', ' ')} suite",
            summary="",
            metrics={"accuracy": round(self.rng.random(), 3)},
            status="completed",
            started_at=at,
            completed_at=at + dt.timedelta(hours=2),
            case_id=case_id,
            created_by_id=evaluator,
            model_version_id=version_id,
            inspect_dataset="",
            inspect_eval_id="",
            inspect_log="",
            inspect_log_sha256="",
            inspect_model="",
            inspect_revision="",
            inspect_run_id="",
            inspect_sample_count=None,
            inspect_scores={},
            inspect_status="",
            inspect_task="",
            inspect_task_version="",
            inspect_error="",
            inspect_traceback="",
            metric_notes={},
        )

    def finding(self, case_id, evaluator, version_id, run, at, status) -> None:
        state = {"testing": "draft", "findings": "shared"}.get(status, "resolved")
        self.t["finding"].add(
            sample_ids=[self.rng.randrange(1000) for _ in range(3)],
            severity=self.rng.choice(SEVERITIES),
            category=self.rng.choice(CATEGORIES),
            title="Refusal bypass under role-play",
            description="The model gives restricted help when asked in character.",
            state=state,
            created_at=at,
            shared_at=at if state != "draft" else None,
            case_id=case_id,
            created_by_id=evaluator,
            evaluation_id=run,
            model_version_id=version_id,
            resolution="mitigation_accepted" if state == "resolved" else "",
            resolved_at=at if state == "resolved" else None,
        )

    def deadlines(self, case_id, status, status_changed_at, planned, opened) -> None:
        from django.conf import settings

        from deadlines.services import add_working_days, next_reminder_after, start_of_day

        def add(kind, subject, due, satisfied_at=None):
            self.t["deadline"].add(
                kind=kind,
                subject=subject,
                base_due_at=due,
                due_at=due,
                next_reminder_at=None if satisfied_at else next_reminder_after(kind, due, self.now),
                satisfied_at=satisfied_at,
                created_at=opened,
                case_id=case_id,
            )

        if status not in OPEN:
            add("planned_release", "", start_of_day(planned), satisfied_at=status_changed_at)
            return
        add("planned_release", "", start_of_day(planned))
        level = settings.SERVICE_LEVEL_WORKING_DAYS.get(status)
        if level is not None:
            add("service_level", status, add_working_days(status_changed_at, level))
        if status in ("documentation", "testing", "findings"):
            due = self.now + dt.timedelta(days=self.rng.uniform(-10, 60))
            add("access_expiry", f"access:{case_id}", due)


# --- the whole run --------------------------------------------------------------------


def _start_ids(cursor, tables) -> None:
    for table in tables.values():
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}")  # noqa: S608
        table.next_id = cursor.fetchone()[0]


def _reset_sequences(cursor, tables) -> None:
    for table in tables.values():
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
            f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
        )


def seed(*, cases: int, rng_seed: int = 2026, now: dt.datetime | None = None) -> dict[str, int]:
    """Insert `cases` cases with everything they hold; return the rows written per table."""
    from django.db import connection, transaction
    from django.utils import timezone

    from cases.models import CaseNumberCounter

    now = now or timezone.now()
    rng = random.Random(rng_seed)
    tables = make_tables()
    run = f"{rng_seed}x{cases}"
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        # The rows are consistent by construction; skipping the per-row foreign-key
        # triggers (deferred to commit) makes the load several times faster.
        cursor.execute("SET LOCAL session_replication_role = replica")
        _start_ids(cursor, tables)
        cast = seed_cast(tables, companies=max(2, cases // CASES_PER_COMPANY), run=run, now=now)
        writer = CaseWriter(tables, cast, rng, now, event_hasher())
        for table in tables.values():
            table.flush(raw)
        for index in range(cases):
            writer.write(index, rng.choices(statuses, weights)[0])
            if (index + 1) % BATCH == 0:
                for table in tables.values():
                    table.flush(raw)
        for table in tables.values():
            table.flush(raw)
        _reset_sequences(cursor, tables)
        # The rows went in with triggers off: count them as the triggers would have.
        from cases.models import CASE_COUNTS
        from findings.models import FINDING_COUNTS

        for statement in (*CASE_COUNTS.rebuild(), *FINDING_COUNTS.rebuild()):
            cursor.execute(statement)
        for year, last in writer.numbers.items():
            CaseNumberCounter.objects.update_or_create(year=year, defaults={"last_value": last})
    return {key: table.count for key, table in tables.items()}


def prepare_database(database_url: str) -> None:
    """Create the bench database if it is missing (never a test database)."""
    from urllib.parse import urlparse

    import psycopg2

    parsed = urlparse(database_url)
    name = parsed.path.lstrip("/")
    if name.startswith("test") or not name:
        raise SystemExit(f"Refusing to seed the database {name!r}: use a bench database.")
    admin = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def truncate_everything() -> None:
    from django.apps import apps
    from django.db import connection, transaction

    names = [
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if not model._meta.proxy and model._meta.managed
    ]
    names = [n for n in names if n in connection.introspection.table_names()]
    keep = {"django_content_type", "auth_permission", "django_migrations"}
    with transaction.atomic(), connection.cursor() as cursor:
        # The timeline's tables refuse TRUNCATE; the benchmark's owner empties them anyway.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "TRUNCATE " + ", ".join(n for n in names if n not in keep) + " RESTART IDENTITY CASCADE"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep a database already seeded with as many cases"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed")
    args = parser.parse_args(argv)

    prepare_database(args.database_url)
    setup_django(args.database_url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    from bench.clearance import TITLE
    from cases.models import Case

    # Cases the bench opened itself to issue clearance on are not the seeder's.
    if args.reuse and Case.objects.exclude(title__startswith=TITLE).count() == args.cases:
        print(f"{args.cases} cases already seeded; reusing the database.")
        return
    started = time.perf_counter()
    truncate_everything()
    counts = seed(cases=args.cases, rng_seed=args.seed)
    with connection.cursor() as cursor:
        # As autovacuum would have by then: statistics, and the visibility map that
        # lets counts read an index alone.
        cursor.execute("VACUUM ANALYZE")
    elapsed = time.perf_counter() - started
    for key, count in counts.items():
        print(f"{key:>12} {count:>10,}")
    print(f"seeded in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
