from django.core.management.base import BaseCommand, CommandError

from cases.models import Case
from cases.services import verify_chain


class Command(BaseCommand):
    help = "Check every case's hash-chained timeline; name the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("numbers", nargs="*", help="Case numbers (default: every case).")

    def handle(self, *args, numbers, **options):
        cases = Case.objects.order_by("pk")
        if numbers:
            cases = cases.filter(number__in=numbers)
        checked = 0
        for case in cases.iterator():
            broken = verify_chain(case)
            if broken is not None:
                raise CommandError(
                    f"{case.number}: timeline broken at event #{broken.seq} "
                    f"({broken.verb}, id {broken.pk}): its hash or link does not match."
                )
            checked += 1
        self.stdout.write(self.style.SUCCESS(f"{checked} case timelines verified; all intact."))
