from django.core.management.base import BaseCommand

from core import crypto


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (credentials, webhook secrets) under the first key of "
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
        count = crypto.reencrypt_all()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} secret(s)."))
