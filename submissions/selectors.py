"""Reads for the submission pages and the case page's panel, in a fixed number of queries."""

from dataclasses import dataclass, field

from cases.models import Case
from core.folding import prefetched
from submissions.checklist import GROUPS, PRACTICES, Practice, PracticeGroup
from submissions.models import (
    REQUIRED_DOCUMENT_KINDS,
    AccessGrant,
    ChecklistEntry,
    Document,
    DocumentKind,
    DocumentState,
    PracticeStatus,
    latest_of_each_kind,
)


@dataclass
class KindStatus:
    kind: DocumentKind
    required: bool
    latest: Document | None
    versions: int

    @property
    def state(self) -> str:
        if self.latest is None:
            return "missing"
        return self.latest.state

    @property
    def accepted(self) -> bool:
        return self.latest is not None and self.latest.state == DocumentState.ACCEPTED


def documentation_completeness(documents: list[Document]) -> list[KindStatus]:
    """Return, per document kind, the latest version and how many versions exist."""
    latest = latest_of_each_kind(documents)
    counts: dict[str, int] = {}
    for doc in documents:
        counts[doc.kind] = counts.get(doc.kind, 0) + 1
    rows = [
        KindStatus(kind, True, latest.get(kind.value), counts.get(kind.value, 0))
        for kind in REQUIRED_DOCUMENT_KINDS
    ]
    if DocumentKind.OTHER in latest:
        rows.append(KindStatus(DocumentKind.OTHER, False, latest["other"], counts.get("other", 0)))
    return rows


@dataclass
class ChecklistSummary:
    counts: dict[str, int]
    unanswered: int
    total: int
    gaps: list[dict] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return self.total - self.unanswered


def checklist_summary(entries: list[ChecklistEntry]) -> ChecklistSummary:
    """Count the answers and list the gaps: unanswered, partial, planned, or unsupported."""
    by_key = {e.practice: e for e in entries if e.practice in PRACTICES}
    counts = {status.value: 0 for status in PracticeStatus}
    gaps = []
    for group in GROUPS:
        for practice in group.practices:
            entry = by_key.get(practice.key)
            if entry is None:
                gaps.append({"practice": practice, "group": group, "why": "not answered"})
                continue
            counts[entry.status] += 1
            if entry.status in (PracticeStatus.PARTIAL, PracticeStatus.PLANNED):
                gaps.append(
                    {"practice": practice, "group": group, "why": entry.get_status_display()}
                )
            elif (
                entry.status == PracticeStatus.IMPLEMENTED
                and entry.evidence_document_id is None
                and not entry.note
            ):
                gaps.append(
                    {"practice": practice, "group": group, "why": "implemented, no evidence"}
                )
    return ChecklistSummary(
        counts=counts, unanswered=len(PRACTICES) - len(by_key), total=len(PRACTICES), gaps=gaps
    )


def unanswered_by_group(
    entries: list[ChecklistEntry],
) -> list[tuple[PracticeGroup, list[Practice]]]:
    """Return, for each group with practices still unanswered, those practices."""
    answered = {e.practice for e in entries}
    gaps = [(g, [p for p in g.practices if p.key not in answered]) for g in GROUPS]
    return [(group, practices) for group, practices in gaps if practices]


def case_panel(case: Case) -> dict:
    """Gather what the case page's submission panel shows: four queries at any size.

    None at all when the page read the case's rows with it (`core.folding`).
    """
    versions = list(case.versions.all())
    grants = prefetched(case, "access_grants")
    if grants is None:
        grants = list(
            AccessGrant.objects.filter(case=case)
            .select_related("revoked_by", "model_version")
            .order_by("-created_at")
        )
    else:
        grants.sort(key=lambda g: g.created_at, reverse=True)
    # The comment is read with the rest: the panel shows it on a document CAISI sent back.
    documents = prefetched(case, "documents")
    if documents is None:
        documents = list(Document.objects.filter(case=case))
    entries = prefetched(case, "checklist_entries")
    if entries is None:
        entries = list(ChecklistEntry.objects.filter(case=case))
    return {
        "versions": versions,
        "grants": grants,
        "completeness": documentation_completeness(documents),
        "checklist": checklist_summary(entries),
    }
