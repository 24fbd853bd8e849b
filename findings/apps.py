import datetime as dt

from django.apps import AppConfig
from django.db.models import Q

from core.records import RecordedContent
from core.work import Work

# A large Inspect log kept by its request, waiting for a worker to read it. Reading
# a multi-GB log takes minutes: one published longer ago than that is lost.
INSPECT_IMPORT = Work(
    name="Inspect log import",
    model="findings.InspectImport",
    task="findings.tasks.import_inspect_log",
    pending=Q(state="queued"),
    after=dt.timedelta(minutes=30),
)

# What the timeline's events of steps 5 and 6 record, by hash (fields that never change).
FINDING_CONTENT = RecordedContent(
    verbs=("finding_drafted",),
    model="findings.Finding",
    key="finding",
    fields=(
        "model_version",
        "evaluation",
        "sample_ids",
        "severity",
        "category",
        "title",
        "description",
        "created_by",
    ),
)
ANSWER_CONTENT = RecordedContent(
    verbs=("finding_answered",),
    model="findings.FindingResponse",
    key="response",
    fields=(
        "finding",
        "round",
        "kind",
        "fixed_in_version",
        "mitigation",
        "rationale",
        "responded_by",
    ),
)
DECISION_CONTENT = RecordedContent(
    verbs=("finding_answer_reviewed",),
    model="findings.FindingResponse",
    key="response",
    fields=("finding", "round", "verdict", "review_note", "reviewed_by", "reviewed_at"),
)
QUESTION_CONTENT = RecordedContent(
    verbs=("clarification_requested",),
    model="findings.ClarificationRequest",
    key="request",
    fields=("question", "due_date", "asked_by"),
)
CLARIFICATION_ANSWER_CONTENT = RecordedContent(
    verbs=("clarification_answered",),
    model="findings.ClarificationRequest",
    key="request",
    fields=("question", "answer", "answered_by", "answered_at"),
)


class FindingsConfig(AppConfig):
    name = "findings"
    background_work = (INSPECT_IMPORT,)
    recorded_content = (
        FINDING_CONTENT,
        ANSWER_CONTENT,
        DECISION_CONTENT,
        QUESTION_CONTENT,
        CLARIFICATION_ANSWER_CONTENT,
    )
