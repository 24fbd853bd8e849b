"""Check an exported case record offline, with the same code as the verify.py inside it."""

from django.core.management.base import BaseCommand, CommandError

from core import exportcheck, signing


class Command(BaseCommand):
    help = (
        "Check an exported case record: the manifest's signature (by this portal's certificate "
        "unless another fingerprint is given), every file's hash, and the timeline's chain. "
        "Exits non-zero naming the first thing that does not hold."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="The record's ZIP file.")
        parser.add_argument(
            "--certificate-sha256",
            help="The fingerprint the signing certificate must have (default: this portal's).",
        )

    def handle(self, *args, archive, certificate_sha256, **options):
        if not certificate_sha256:
            try:
                certificate_sha256 = signing.certificate_sha256()
            except signing.SigningIdentityMissing:
                self.stderr.write(
                    "This portal has no signing identity to compare the record's with; "
                    "checking the record against the certificate it carries."
                )
        try:
            summary = exportcheck.verify_archive(archive, certificate_sha256=certificate_sha256)
        except exportcheck.RecordInvalid as failure:
            raise CommandError(f"NOT VERIFIED: {failure}") from None
        self.stdout.write(self.style.SUCCESS(exportcheck.describe(summary)))
