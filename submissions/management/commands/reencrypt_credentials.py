from django.core.management.base import BaseCommand

from submissions import crypto
from submissions.services import reencrypt_credentials


class Command(BaseCommand):
    help = (
        "Re-encrypt stored access credentials and webhook secrets under the first key of "
        "CREDENTIAL_ENCRYPTION_KEYS. To rotate: put a new key first, keep the old "
        "ones after it, run this, then drop the old keys. --new-key prints a fresh key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--new-key", action="store_true", help="Print a newly generated key and exit."
        )

    def handle(self, *args, new_key=False, **options):
        if new_key:
            self.stdout.write(crypto.generate_key())
            return
        count = reencrypt_credentials()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} secret(s)."))
