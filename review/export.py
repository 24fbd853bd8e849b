"""The review's record, exported whole: one ZIP that anyone can check offline.

The archive holds `manifest.json` (every file with its SHA-256 and size, the
case's fields, when and by whom it was exported, the format version), the
timeline as JSON Lines with each event's hash and link, the case's versions,
access records (never a credential), documents, evaluations and their logs,
findings with their answers and decisions, clarifications, messages and
statements with their signed PDFs; `manifest.json.sig`, a detached signature
over the manifest with the portal's signing identity, and the certificate;
and `verify.py`, the very checker `manage.py verify_export` runs.

CAISI's record holds everything. The company's holds what the company sees
on the portal: no internal note or event (an internal event is a numbered
placeholder, so the count still adds up), no draft finding, no evaluation, no
evaluator assignment.
"""

import datetime as dt
import hashlib
import json
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from cases.access import name_in_record
from cases.intake import INTAKE_EDITABLE
from cases.models import Case, CaseEvent, Message
from clearance.models import ClearanceStatement
from core import exportcheck, signing
from core.records import RecordSection, record_sections
from findings.models import ClarificationRequest, EvaluationRun, Finding, FindingState
from submissions.models import AccessGrant, Document, ModelVersion

AUDIENCE_CAISI = "caisi"
AUDIENCE_COMPANY = "company"
TIMELINE = "timeline.jsonl"
CHUNK = 1 << 20


def _safe_name(name: str) -> str:
    """Return a file name that is the same on every system and cannot climb out of its folder."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "file"
    return cleaned[:120]


def _without_secrets(url: str) -> str:
    """Drop what an address may carry besides where it points: a user, a password, a query."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass
class Record:
    """The archive being written: every file goes through here, so the manifest lists it."""

    archive: zipfile.ZipFile
    case: Case
    internal: bool
    files: list[dict[str, Any]] = field(default_factory=list)

    def add_bytes(self, path: str, data: bytes) -> None:
        self.archive.writestr(path, data)
        self.files.append(
            {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        )

    def add_json(self, path: str, value: Any) -> None:
        text = json.dumps(
            value, cls=DjangoJSONEncoder, indent=2, sort_keys=True, ensure_ascii=False
        )
        self.add_bytes(path, text.encode() + b"\n")

    def add_file(self, path: str, name: str) -> dict[str, Any] | None:
        """Copy a stored file into the record; return its entry, or None if storage lost it."""
        try:
            source = default_storage.open(name, "rb")
        except FileNotFoundError:
            return None
        digest, size = hashlib.sha256(), 0
        info = zipfile.ZipInfo(path, date_time=time.localtime()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        with source, self.archive.open(info, "w", force_zip64=True) as target:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                target.write(chunk)
        entry = {"path": path, "sha256": digest.hexdigest(), "size": size}
        self.files.append(entry)
        return entry


# --- the sections ---------------------------------------------------------------------


def case_fields(case: Case, internal: bool) -> dict[str, Any]:
    fields = {name: getattr(case, name) for name in INTAKE_EDITABLE}
    fields.update(
        number=case.number,
        organization=case.organization.name,
        status=case.status,
        case_manager=name_in_record(case.case_manager, internal),
        created_at=case.created_at,
        status_changed_at=case.status_changed_at,
    )
    if internal:
        fields["evaluators"] = [name_in_record(e, internal) for e in case.evaluators.order_by("pk")]
    return fields


def write_timeline(record: Record) -> dict[str, Any]:
    """Write the timeline as JSON Lines; return what the manifest says of it."""
    lines, head, follows_withheld = [], {}, False
    events = CaseEvent.objects.filter(case=record.case).select_related("actor").order_by("seq")
    for event in events.iterator():
        if event.internal and not record.internal:
            # Neither its content nor its hash: either would tell what CAISI did internally.
            line, follows_withheld = {"seq": event.seq, "withheld": True}, True
            head = {"seq": event.seq}
        else:
            content = event.content(record.case.number)
            del content["case"]
            if follows_withheld:
                content["prev"] = None  # the withheld event's hash, which the company never sees
            line = {
                **content,
                "hash": event.hash,
                "label": event.verb_label,
                "actor_name": name_in_record(event.actor, record.internal),
            }
            follows_withheld = False
            head = {"seq": event.seq, "hash": event.hash}
        lines.append(json.dumps(line, sort_keys=True, separators=(",", ":")))
    record.add_bytes(TIMELINE, ("\n".join(lines) + "\n").encode() if lines else b"")
    return {"file": TIMELINE, "events": len(lines), "head": head}


def write_versions(record: Record, case: Case, internal: bool) -> None:
    record.add_json(
        "versions.json",
        [
            {
                "id": v.pk,
                "label": v.label,
                "vcs_reference": v.vcs_reference,
                "artifact_sha256": v.artifact_sha256,
                "container_image": v.container_image,
                "digest": v.digest,
                "packaging": v.packaging,
                "changelog": v.changelog,
                "submitted_at": v.submitted_at,
                "created_by": name_in_record(v.created_by, internal),
                "created_at": v.created_at,
            }
            for v in ModelVersion.objects.filter(case=case).select_related("created_by")
        ],
    )


def write_access(record: Record, case: Case, internal: bool) -> None:
    """Write how CAISI reached the model: never a credential, never the weights themselves."""
    grants = AccessGrant.objects.filter(case=case).select_related("created_by", "revoked_by")
    record.add_json(
        "access.json",
        [
            {
                "id": g.pk,
                "method": g.method,
                "endpoint": _without_secrets(g.endpoint_url),
                "instructions": g.instructions,
                "credentials_on_record": g.has_credentials,
                "nda_reference": g.nda_reference,
                "nda_signed_on": g.nda_signed_on,
                "valid_from": g.valid_from,
                "valid_until": g.valid_until,
                "checksum_verified": g.checksum_verified,
                "artifact_name": g.artifact_original_name,
                "artifact_size": g.artifact_size,
                "artifact_sha256": g.artifact_sha256,
                "revoked_at": g.revoked_at,
                "revoked_by": name_in_record(g.revoked_by, internal),
                "created_by": name_in_record(g.created_by, internal),
                "created_at": g.created_at,
            }
            for g in grants.order_by("created_at", "pk")
        ],
    )


def write_documents(record: Record, case: Case, internal: bool) -> None:
    rows = []
    documents = Document.objects.filter(case=case).select_related(
        "model_version", "uploaded_by", "reviewed_by"
    )
    for d in documents.order_by("kind", "version_number", "pk"):
        row = {
            "id": d.pk,
            "kind": d.kind,
            "report_type": d.report_type,
            "version_number": d.version_number,
            "model_version": d.model_version.label if d.model_version else None,
            "title": d.title,
            "original_name": d.original_name,
            "content_type": d.content_type,
            "size": d.size,
            "sha256": d.sha256,
            "state": d.state,
            "review_comment": d.review_comment,
            "uploaded_by": name_in_record(d.uploaded_by, internal),
            "uploaded_at": d.uploaded_at,
            "reviewed_by": name_in_record(d.reviewed_by, internal),
            "reviewed_at": d.reviewed_at,
            "file": None,
        }
        if d.file:
            entry = record.add_file(
                f"documents/{d.pk}-{_safe_name(d.original_name or d.kind)}", d.file.name
            )
            row["file"] = entry and entry["path"]
            # The stored file against the digest taken at upload: storage changed is shown.
            row["file_matches_upload"] = entry is not None and entry["sha256"] == d.sha256
        rows.append(row)
    record.add_json("documents.json", rows)


def write_evaluations(record: Record, case: Case, internal: bool) -> None:
    """Write CAISI's evaluation runs and their Inspect logs (internal: CAISI's record only)."""
    if not internal:
        return
    rows = []
    runs = EvaluationRun.objects.filter(case=case).select_related("model_version", "created_by")
    for run in runs.order_by("started_at", "pk"):
        row = {
            "id": run.pk,
            "model_version": run.model_version.label,
            "category": run.category,
            "title": run.title,
            "summary": run.summary,
            "metrics": run.metrics,
            "status": run.status,
            "started_at": run.started_at,
            "completed_at": run.completed_at,
            "recorded_by": name_in_record(run.created_by, internal),
            "inspect": {
                "eval_id": run.inspect_eval_id,
                "run_id": run.inspect_run_id,
                "task": run.inspect_task,
                "task_version": run.inspect_task_version,
                "model": run.inspect_model,
                "dataset": run.inspect_dataset,
                "revision": run.inspect_revision,
                "status": run.inspect_status,
                "scores": run.inspect_scores,
                "log_sha256": run.inspect_log_sha256,
            },
            "log": None,
        }
        if run.inspect_log:
            entry = record.add_file(
                f"evaluation-logs/{run.pk}-{_safe_name(Path(run.inspect_log.name).name)}",
                run.inspect_log.name,
            )
            row["log"] = entry and entry["path"]
        rows.append(row)
    record.add_json("evaluations.json", rows)


def write_findings(record: Record, case: Case, internal: bool) -> None:
    """Write the findings with every answer and decision (drafts in CAISI's record only)."""
    findings = Finding.objects.filter(case=case).select_related("model_version", "created_by")
    if not internal:
        findings = findings.exclude(state=FindingState.DRAFT)
    findings = findings.prefetch_related(
        "responses__fixed_in_version", "responses__responded_by", "responses__reviewed_by"
    )
    rows = []
    for f in findings.order_by("created_at", "pk"):
        row = {
            "id": f.pk,
            "model_version": f.model_version.label,
            "evaluation": f.evaluation_id if internal else None,
            "sample_ids": f.sample_ids,
            "severity": f.severity,
            "category": f.category,
            "title": f.title,
            "description": f.description,
            "state": f.state,
            "resolution": f.resolution,
            "created_at": f.created_at,
            "shared_at": f.shared_at,
            "resolved_at": f.resolved_at,
            "responses": [
                {
                    "round": r.round,
                    "kind": r.kind,
                    "fixed_in_version": r.fixed_in_version.label if r.fixed_in_version else None,
                    "mitigation": r.mitigation,
                    "rationale": r.rationale,
                    "responded_by": name_in_record(r.responded_by, internal),
                    "responded_at": r.responded_at,
                    "decision": {
                        "verdict": r.verdict,
                        "note": r.review_note,
                        "reviewed_by": name_in_record(r.reviewed_by, internal),
                        "reviewed_at": r.reviewed_at,
                    },
                }
                for r in sorted(f.responses.all(), key=lambda r: r.round)
            ],
        }
        if internal:
            row["drafted_by"] = name_in_record(f.created_by, internal)
        rows.append(row)
    record.add_json("findings.json", rows)


def write_clarifications(record: Record, case: Case, internal: bool) -> None:
    requests = ClarificationRequest.objects.filter(case=case).select_related(
        "asked_by", "answered_by"
    )
    record.add_json(
        "clarifications.json",
        [
            {
                "id": r.pk,
                "question": r.question,
                "due_date": r.due_date,
                "status": r.status,
                "asked_by": name_in_record(r.asked_by, internal),
                "asked_at": r.created_at,
                "answer": r.answer,
                "answered_by": name_in_record(r.answered_by, internal),
                "answered_at": r.answered_at,
                "closed_at": r.closed_at,
            }
            for r in requests.order_by("created_at", "pk")
        ],
    )


def write_messages(record: Record, case: Case, internal: bool) -> None:
    """Write the thread (internal notes in CAISI's record only)."""
    messages = Message.objects.filter(case=case).select_related("author")
    if not internal:
        messages = messages.filter(internal=False)
    record.add_json(
        "messages.json",
        [
            {
                "id": m.pk,
                "author": name_in_record(m.author, internal),
                "body": m.body,
                "internal": m.internal,
                "created_at": m.created_at,
            }
            for m in messages.order_by("created_at", "pk")
        ],
    )


def write_statements(record: Record, case: Case, internal: bool) -> None:
    """Write every clearance statement with its signed PDF, as it was issued."""
    rows = []
    statements = ClearanceStatement.objects.filter(case=case).select_related("superseded_by")
    for s in statements.order_by("issued_at", "pk"):
        row = {
            "number": s.number,
            "model_version": s.version_label,
            "vcs_reference": s.vcs_reference,
            "digest": s.digest,
            "company_name": s.company_name,
            "model_name": s.model_name,
            "scope": s.scope,
            "conditions": s.conditions,
            "official": s.official_name,
            "issued_at": s.issued_at,
            "status": s.status,
            "status_changed_at": s.status_changed_at,
            "superseded_by": s.superseded_by.number if s.superseded_by else None,
            "revocation_reason": s.revocation_reason,
            "verification_url": s.get_verification_url(),
            "pdf_sha256": s.pdf_sha256,
            "pdf": None,
        }
        if s.pdf:
            entry = record.add_file(f"statements/{_safe_name(s.number)}.pdf", s.pdf.name)
            row["pdf"] = entry and entry["path"]
            row["pdf_matches_issued"] = entry is not None and entry["sha256"] == s.pdf_sha256
        rows.append(row)
    record.add_json("statements.json", rows)


# The record's sections, in the order they are written. An app that adds to the
# record (incidents, monitoring reports) declares its own `RecordSection`s in its
# AppConfig's `record_sections`; they follow these.
RECORD_SECTIONS: list[RecordSection] = [
    RecordSection("versions", write_versions),
    RecordSection("access", write_access),
    RecordSection("documents", write_documents),
    RecordSection("evaluations", write_evaluations),
    RecordSection("findings", write_findings),
    RecordSection("clarifications", write_clarifications),
    RecordSection("messages", write_messages),
    RecordSection("statements", write_statements),
]


def sections() -> list[RecordSection]:
    return [*RECORD_SECTIONS, *record_sections()]


# --- the archive ------------------------------------------------------------------------


@dataclass(frozen=True)
class WrittenRecord:
    manifest_sha256: str
    files: int
    events: int
    audience: str


def readme(number: str, fingerprint: str, internal: bool) -> str:
    whose = "CAISI's full record" if internal else "the company's record (nothing internal)"
    return f"""Case {number}: the review's record, {whose}.

Check it offline with Python 3.11+ and the `cryptography` package:

    python verify.py --certificate-sha256 {fingerprint} THIS-FILE.zip

It checks the signature over manifest.json, every file's size and SHA-256,
and the timeline's hash chain from the first event to the last, and names the
first thing that does not hold. The fingerprint above is that of the
certificate this record was signed with; compare it with the one CAISI
publishes before you rely on it.

The signature alone can also be checked with OpenSSL:

    openssl x509 -in signing-certificate.pem -pubkey -noout > key.pem
    openssl dgst -sha256 -verify key.pem -signature manifest.json.sig manifest.json
"""


def write_record(
    *, case: Case, internal: bool, exported_by: dict[str, Any], output: IO[bytes]
) -> WrittenRecord:
    """Write the case's record as a signed ZIP to `output`."""
    cert_pem = signing.certificate_pem()
    fingerprint = signing.certificate_sha256()
    case = Case.objects.select_related("organization", "case_manager").get(pk=case.pk)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        record = Record(archive=archive, case=case, internal=internal)
        record.add_json("case.json", case_fields(case, internal))
        timeline = write_timeline(record)
        for section in sections():
            section.write(record, case, internal)
        record.add_bytes(exportcheck.CERTIFICATE, cert_pem)
        record.add_bytes("verify.py", Path(exportcheck.__file__).read_bytes())
        record.add_bytes("README.txt", readme(case.number, fingerprint, internal).encode())
        manifest = {
            "format": exportcheck.FORMAT,
            "format_version": exportcheck.FORMAT_VERSION,
            "audience": AUDIENCE_CAISI if internal else AUDIENCE_COMPANY,
            "case": case_fields(case, internal),
            "exported_at": timezone.now().astimezone(dt.UTC),
            "exported_by": exported_by,
            "timeline": timeline,
            "sections": ["case", "timeline", *(s.name for s in sections())],
            "signature": {
                "file": exportcheck.SIGNATURE,
                "certificate": exportcheck.CERTIFICATE,
                "certificate_sha256": fingerprint,
                "algorithm": "SHA-256 with the certificate's key (RSA PKCS#1 v1.5, ECDSA, Ed25519)",
            },
            "files": record.files,
        }
        raw = json.dumps(
            manifest, cls=DjangoJSONEncoder, indent=2, sort_keys=True, ensure_ascii=False
        ).encode()
        archive.writestr(exportcheck.MANIFEST, raw)
        archive.writestr(exportcheck.SIGNATURE, signing.sign(raw))
    return WrittenRecord(
        manifest_sha256=hashlib.sha256(raw).hexdigest(),
        files=len(record.files),
        events=timeline["events"],
        audience=manifest["audience"],
    )
