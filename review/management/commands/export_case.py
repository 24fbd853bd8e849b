"""Write a case's whole record as one signed ZIP, and put the export on its timeline."""

import getpass
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from cases.models import Case
from core import signing
from core.errors import CaseNotFound
from review import services


class Command(BaseCommand):
    help = (
        "Export a case's record (manifest, timeline, versions, access records, documents, "
        "evaluations, findings, clarifications, messages, statements) as a signed ZIP that "
        "`verify_export`, or the verify.py inside it, checks offline."
    )

    def add_arguments(self, parser):
        parser.add_argument("number", help="The case number, e.g. CAISI-2026-0001.")
        parser.add_argument("--output", required=True, help="Where to write the ZIP.")
        parser.add_argument(
            "--company",
            action="store_true",
            help="Write the company's record: nothing internal to CAISI.",
        )
        parser.add_argument(
            "--by", metavar="EMAIL", help="The portal user on whose behalf the record is exported."
        )
        parser.add_argument("--force", action="store_true", help="Replace an existing file.")

    def handle(self, *args, number, output, company, by, force, **options):
        case = Case.objects.filter(number=number).first()
        if case is None:
            raise CommandError(f"No case {number}.")
        actor = None
        if by:
            actor = User.objects.filter(email__iexact=by, is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {by}.")
        target = Path(output)
        if target.exists() and not force:
            raise CommandError(f"{target} exists already; use --force to replace it.")
        if not target.parent.is_dir():
            raise CommandError(f"No folder {target.parent} to write {target.name} in.")
        try:
            signing.identity_paths()
        except signing.SigningIdentityMissing as missing:
            raise CommandError(str(missing)) from None
        # Written beside the target and moved into place whole: a failed export leaves no file.
        handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(handle, "wb") as stream:
                written = services.export_record(
                    case=case,
                    actor=actor,
                    output=stream,
                    company_view=company,
                    operator=getpass.getuser(),
                )
            os.replace(partial, target)
        except CaseNotFound:
            raise CommandError(f"{by} may not see {number}.") from None
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        self.stdout.write(
            self.style.SUCCESS(f"{target}: {written.audience} record of {number}")
            + f"\n  {target.stat().st_size} bytes, {written.files} files, "
            f"{written.events} timeline events"
            + f"\n  manifest SHA-256 {written.manifest_sha256}"
            + f"\n  signed with the certificate {signing.certificate_sha256()}"
        )
