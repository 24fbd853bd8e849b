"""Print a new personal API token for a user: `manage.py create_api_token USERNAME`."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from accounts.services import create_api_token
from core.errors import ActionRefused


class Command(BaseCommand):
    help = "Create a personal API token for the user with this email address and print it once."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user's email address.")
        parser.add_argument("--name", default="Command-line token", help="What the token is for.")
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="Expire the token after this many days (default: never).",
        )
        parser.add_argument(
            "--read-only",
            action="store_true",
            help="A token that may read but never change anything.",
        )

    def handle(self, *args, username, name, expires_in_days, read_only, **options):
        user = User.objects.filter(email__iexact=username).first()
        if user is None:
            raise CommandError(f"No user has the email address {username}.")
        if not user.is_active:
            raise CommandError(f"{username} is deactivated; a token would not work.")
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be 1 or more.")
        expires_at = (
            timezone.now() + dt.timedelta(days=expires_in_days) if expires_in_days else None
        )
        try:
            token, raw = create_api_token(
                user=user, name=name, read_only=read_only, expires_at=expires_at
            )
        except ActionRefused as refusal:
            raise CommandError(" ".join(refusal.blockers)) from None
        access = "read-only" if read_only else "read-write"
        expiry = f", expires {expires_at.date().isoformat()}" if expires_at else ""
        self.stderr.write(
            f"Token “{token.name}” ({access}{expiry}) for {user.email}; it is shown only once:"
        )
        self.stdout.write(raw)
