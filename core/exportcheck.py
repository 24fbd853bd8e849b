#!/usr/bin/env python3
"""Check an exported CAISI case record offline; name the first thing that does not hold.

This file is copied, byte for byte, into every export as `verify.py`, and
`manage.py verify_export` runs this same code: it needs only Python 3.11+ and
the `cryptography` package, and imports nothing of the portal.

    python verify.py CAISI-2026-0001-record.zip
    python verify.py --certificate-sha256 <fingerprint> CAISI-2026-0001-record.zip

What it checks, in this order:

1. `manifest.json` is there and is a record of this format;
2. the signature `manifest.json.sig` over `manifest.json` was made with the key
   of `signing-certificate.pem`, the certificate the manifest names (and, when
   a fingerprint is given, the certificate is that one: without it, anyone
   could re-sign an edited record with a key of their own);
3. every file in the archive is listed in the manifest, and every listed file
   is there with the size and SHA-256 the manifest gives;
4. the timeline: events numbered 1, 2, 3 ... with none missing, each event's
   hash recomputed from what it records, each linked to the one before, and
   the last one the head the manifest names.

Exit status 0 when everything holds; 1, with the first failure named, when not.
"""

import argparse
import hashlib
import json
import re
import sys
import zipfile

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

FORMAT = "caisi-case-record"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
CERTIFICATE = "signing-certificate.pem"
HEX64 = re.compile(r"[0-9a-f]{64}")
# The fields of a timeline event that its hash covers, as the portal computes it.
HASHED = ("seq", "actor", "verb", "from", "to", "details", "internal", "created_at", "prev")
CHUNK = 1 << 20


class RecordInvalid(Exception):
    """The first thing in the record that does not hold."""


def canonical_json(value) -> bytes:
    """Return the one serialization hashes and signatures are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def event_hash(case_number: str, event: dict) -> str:
    """Return the SHA-256 of one timeline event, as the portal chained it."""
    content = {"case": case_number, **{name: event[name] for name in HASHED}}
    return hashlib.sha256(canonical_json(content)).hexdigest()


def _member_sha256(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _read_manifest(archive: zipfile.ZipFile, names: set[str]) -> tuple[bytes, dict]:
    if MANIFEST not in names:
        raise RecordInvalid(f"{MANIFEST}: missing from the archive.")
    raw = archive.read(MANIFEST)
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RecordInvalid(f"{MANIFEST}: not valid JSON ({error}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RecordInvalid(f"{MANIFEST}: not a {FORMAT} manifest.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise RecordInvalid(
            f"{MANIFEST}: format version {manifest.get('format_version')!r}; "
            f"this verifier reads version {FORMAT_VERSION}."
        )
    for key, kind in (("files", list), ("case", dict), ("timeline", dict), ("signature", dict)):
        if not isinstance(manifest.get(key), kind):
            raise RecordInvalid(f"{MANIFEST}: “{key}” is missing or malformed.")
    return raw, manifest


def _check_signature(
    archive: zipfile.ZipFile, names: set[str], raw: bytes, manifest: dict, pinned: str | None
) -> str:
    """Check the manifest's signature; return the signing certificate's fingerprint."""
    for name in (SIGNATURE, CERTIFICATE):
        if name not in names:
            raise RecordInvalid(f"{name}: missing from the archive.")
    try:
        cert = x509.load_pem_x509_certificate(archive.read(CERTIFICATE))
    except ValueError as error:
        raise RecordInvalid(f"{CERTIFICATE}: not a PEM certificate ({error}).") from None
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    named = str(manifest["signature"].get("certificate_sha256", "")).lower().replace(":", "")
    if fingerprint != named:
        raise RecordInvalid(
            f"{CERTIFICATE}: its fingerprint {fingerprint} is not the {named or 'none'} "
            f"that {MANIFEST} names."
        )
    if pinned and fingerprint != pinned:
        raise RecordInvalid(
            f"{SIGNATURE}: signed with the certificate {fingerprint}, not the expected {pinned}."
        )
    signature = archive.read(SIGNATURE)
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, raw, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, raw, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, raw)
        else:
            raise RecordInvalid(f"{CERTIFICATE}: a key of a kind this verifier cannot check.")
    except InvalidSignature:
        raise RecordInvalid(
            f"{SIGNATURE}: the signature over {MANIFEST} does not hold "
            "(the manifest was changed after it was signed, or signed with another key)."
        ) from None
    return fingerprint


def _check_files(archive: zipfile.ZipFile, names: set[str], manifest: dict) -> None:
    listed: dict[str, dict] = {}
    for entry in manifest["files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise RecordInvalid(f"{MANIFEST}: a file entry is malformed: {entry!r}.")
        if entry["path"] in listed:
            raise RecordInvalid(f"{MANIFEST}: {entry['path']} is listed twice.")
        listed[entry["path"]] = entry
    for name in sorted(names - set(listed) - {MANIFEST, SIGNATURE}):
        raise RecordInvalid(f"{name}: in the archive but not in {MANIFEST}.")
    for path, entry in listed.items():
        if path not in names:
            raise RecordInvalid(f"{path}: listed in {MANIFEST} but missing from the archive.")
        sha256, size = _member_sha256(archive, path)
        if size != entry.get("size"):
            raise RecordInvalid(
                f"{path}: {size} bytes, but {MANIFEST} says {entry.get('size')} bytes."
            )
        if sha256 != entry.get("sha256"):
            raise RecordInvalid(f"{path}: its SHA-256 {sha256} is not the one in {MANIFEST}.")


def _check_timeline(archive: zipfile.ZipFile, manifest: dict) -> dict:
    """Walk the chain from the first event to the last; return what was seen."""
    timeline, number = manifest["timeline"], manifest["case"].get("number")
    path = timeline.get("file", "timeline.jsonl")
    if path not in {entry["path"] for entry in manifest["files"]}:
        raise RecordInvalid(f"{path}: the timeline is not among the manifest's files.")
    expected_seq, prev_hash, seen, withheld, unlinked = 1, "", 0, 0, 0
    last = None
    with archive.open(path) as stream:
        for line_number, line in enumerate(stream, start=1):
            where = f"{path} line {line_number}"
            try:
                event = json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise RecordInvalid(f"{where}: not a JSON object.") from None
            if not isinstance(event, dict) or not isinstance(event.get("seq"), int):
                raise RecordInvalid(f"{where}: not a timeline event.")
            seq = event["seq"]
            if seq != expected_seq:
                missing = f"event #{expected_seq} is missing" if seq > expected_seq else "repeated"
                raise RecordInvalid(
                    f"{where}: event #{seq} where #{expected_seq} was due ({missing})."
                )
            seen += 1
            expected_seq += 1
            if event.get("withheld") is True:
                # Internal to CAISI and left out of a company's record: its hash too.
                withheld, prev_hash, last = withheld + 1, None, event
                continue
            if any(name not in event for name in HASHED) or not HEX64.fullmatch(
                str(event.get("hash", ""))
            ):
                raise RecordInvalid(f"{where}: event #{seq} lacks fields its hash covers.")
            if prev_hash is None:
                # Follows a withheld event: its link is not shown, so the hash, which
                # covers it, cannot be recomputed here; the signature still covers the line.
                unlinked += 1
            else:
                if event["prev"] != prev_hash:
                    raise RecordInvalid(
                        f"{where}: event #{seq} does not link to the hash of event #{seq - 1}."
                    )
                if event_hash(number, event) != event["hash"]:
                    raise RecordInvalid(
                        f"{where}: event #{seq}'s hash does not match what it records."
                    )
            prev_hash, last = event["hash"], event
    if seen != timeline.get("events"):
        raise RecordInvalid(f"{path}: {seen} events, but {MANIFEST} says {timeline.get('events')}.")
    head = timeline.get("head") or {}
    if last is not None and (
        head.get("seq") != last["seq"] or head.get("hash") != last.get("hash", head.get("hash"))
    ):
        raise RecordInvalid(
            f"{path}: ends at event #{last['seq']}, not at the head {MANIFEST} names "
            f"(#{head.get('seq')})."
        )
    return {"events": seen, "withheld": withheld, "unlinked": unlinked}


def verify_archive(path, *, certificate_sha256: str | None = None) -> dict:
    """Check the record at `path`; return a summary, or raise RecordInvalid at the first fault."""
    pinned = (certificate_sha256 or "").lower().replace(":", "") or None
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise RecordInvalid(f"{path}: not a readable ZIP archive ({error}).") from None
    with archive:
        members = archive.namelist()
        names = set(members)
        if len(names) != len(members):
            raise RecordInvalid("The archive holds two files under one name.")
        raw, manifest = _read_manifest(archive, names)
        fingerprint = _check_signature(archive, names, raw, manifest, pinned)
        try:
            _check_files(archive, names, manifest)
            summary = _check_timeline(archive, manifest)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
            raise RecordInvalid(f"The archive is damaged: {error}.") from None
    return {
        "case": manifest["case"].get("number"),
        "audience": manifest.get("audience"),
        "exported_at": manifest.get("exported_at"),
        "files": len(manifest["files"]),
        "certificate_sha256": fingerprint,
        "pinned": pinned is not None,
        **summary,
    }


def describe(summary: dict) -> str:
    lines = [
        f"{summary['case']}: record intact ({summary['audience']} record exported "
        f"{summary['exported_at']}).",
        f"  {summary['files']} files match the manifest; {summary['events']} timeline events "
        "chained from the first to the last.",
        f"  Signed with the certificate whose SHA-256 fingerprint is "
        f"{summary['certificate_sha256']}.",
    ]
    if summary["withheld"]:
        lines.append(
            f"  {summary['withheld']} internal events are withheld from this record; "
            f"{summary['unlinked']} events after them rest on the signature for their link."
        )
    if not summary["pinned"]:
        lines.append(
            "  No fingerprint was given to compare it with: check it against the one CAISI "
            "publishes (or pass --certificate-sha256)."
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check an exported CAISI case record offline.")
    parser.add_argument("archive", help="The record's ZIP file.")
    parser.add_argument(
        "--certificate-sha256",
        help="The SHA-256 fingerprint of the CAISI certificate the record must be signed with.",
    )
    args = parser.parse_args(argv)
    try:
        summary = verify_archive(args.archive, certificate_sha256=args.certificate_sha256)
    except RecordInvalid as failure:
        print(f"NOT VERIFIED: {failure}", file=sys.stderr)
        return 1
    print(describe(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
