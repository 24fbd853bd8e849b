from django.core.management.base import BaseCommand, CommandError

from cases.models import Case, CaseEvent, TimelineCheckpoint
from cases.services import verify_chain, verify_checkpoints


class Command(BaseCommand):
    help = (
        "Check the signed checkpoints, then every case's hash-chained timeline against them "
        "and against the rows its events record; name the first thing that does not hold."
    )

    def add_arguments(self, parser):
        parser.add_argument("numbers", nargs="*", help="Case numbers (default: every case).")

    def handle(self, *args, numbers, **options):
        trusted, problem = verify_checkpoints()
        if problem:
            raise CommandError(f"Timeline checkpoints broken: {problem}")
        cases = Case.objects.order_by("pk")
        if numbers:
            cases = cases.filter(number__in=numbers)
        checked = 0
        for case in cases.iterator():
            broken = verify_chain(case, trusted_checkpoints=trusted)
            if broken is not None:
                where = f" ({broken.event.verb}, id {broken.pk})" if broken.event else ""
                raise CommandError(
                    f"{case.number}: timeline broken at event #{broken.seq}{where}: {broken.reason}"
                )
            checked += 1
        self.stdout.write(self.style.SUCCESS(f"{checked} case timelines verified; all intact."))
        self._report_coverage(len(trusted))

    def _report_coverage(self, checkpoints: int) -> None:
        newest = TimelineCheckpoint.objects.order_by("-seq").first()
        if newest is None:
            self.stdout.write(
                "No checkpoint signed yet: the timelines rest on their hash chains alone."
            )
            return
        after = CaseEvent.objects.filter(created_at__gt=newest.signed_at).count()
        hold = "checkpoints hold" if checkpoints != 1 else "checkpoint holds"
        self.stdout.write(
            f"{checkpoints} {hold}; the newest, #{newest.seq}, was signed "
            f"{newest.signed_at:%Y-%m-%d %H:%M:%S %Z}. {after} events are newer and rest on "
            "their hash chains until the next checkpoint."
        )
