import datetime as dt

from django.apps import AppConfig
from django.db.models import Q

from core.records import RecordedContent
from core.work import Work

# A statement waits for its signed PDF. The render is locked and done once, so
# the sweep may hand every statement still without it to a worker again on
# each of its rounds (CLEARANCE_RENDER_SWEEP_SECONDS), claiming each once a round.
STATEMENT_RENDER = Work(
    name="statement render",
    model="clearance.ClearanceStatement",
    task="clearance.tasks.render_statement",
    pending=Q(pdf=""),
    published="render_published_at",
    created="issued_at",
    after=dt.timedelta(0),
    swept_by="clearance.tasks.render_pending_statements",
)


# What a clearance says is on the timeline by hash: a statement rewritten later no longer
# matches the event that issued it.
STATEMENT_CONTENT = RecordedContent(
    verbs=("issue_clearance",),
    model="clearance.ClearanceStatement",
    key="statement",
    lookup="number",
    fields=(
        "number",
        "model_version",
        "company_name",
        "model_name",
        "version_label",
        "vcs_reference",
        "digest",
        "scope",
        "conditions",
        "official",
        "issued_at",
    ),
    later_fields=("scope_items", "condition_items"),
)


class ClearanceConfig(AppConfig):
    name = "clearance"
    background_work = (STATEMENT_RENDER,)
    recorded_content = (STATEMENT_CONTENT,)
